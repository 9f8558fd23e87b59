// What every solver promises: backward integration, any state rank, no graph
// unless asked, gradients when asked, and clear errors for bad input.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/solvers/solver.h"
#include "solvers/analytic_odes.h"

namespace flowlab::solvers {
namespace {

using analytic::cos_growth_field;
using analytic::cos_growth_solution;
using analytic::max_abs_diff;

const std::vector<std::string> kSolvers = {"euler", "midpoint", "heun", "rk4", "dopri5"};

// 100 fixed steps, or tolerance 1e-8 for dopri5.
std::unique_ptr<Solver> accurate_solver(const std::string& name, bool enable_grad = false) {
  SolverOptions options;
  options.steps = 100;
  options.atol = 1e-8;
  options.rtol = 1e-8;
  options.enable_grad = enable_grad;
  return make_solver(name, options);
}

// Error after a forward and a backward solve, given the method's accuracy at 100 steps.
double round_trip_tolerance(const std::string& name) {
  if (name == "euler") return 2e-2;
  if (name == "midpoint" || name == "heun") return 1e-4;
  if (name == "rk4") return 1e-8;
  return 1e-6;
}

TEST(SolverContract, BackwardInvertsForward) {
  const torch::Tensor x0 = torch::tensor({{1.0, -2.0}, {0.5, 3.0}, {-0.1, 0.2}}, torch::kDouble);
  for (const std::string& name : kSolvers) {
    const auto solver = accurate_solver(name);
    const SolveResult forward = solver->integrate(cos_growth_field(), x0, 0.0, 1.0);
    const SolveResult backward = solver->integrate(cos_growth_field(), forward.x, 1.0, 0.0);
    const double round_trip = max_abs_diff(backward.x, x0);
    EXPECT_LT(round_trip, round_trip_tolerance(name)) << name;
    // The forward solve really moved the state (a no-op would round-trip perfectly).
    EXPECT_GT(max_abs_diff(forward.x, x0), 0.5) << name;
    // Backward from the exact x(1) lands on x(0).
    const SolveResult from_exact = solver->integrate(cos_growth_field(), cos_growth_solution(x0, 0.0, 1.0), 1.0, 0.0);
    EXPECT_LT(max_abs_diff(from_exact.x, x0), round_trip_tolerance(name)) << name;
  }
}

TEST(SolverContract, WorksOnImageShapedState) {
  const torch::Tensor x0 = torch::linspace(-1.0, 1.0, 48, torch::kDouble).view({3, 1, 4, 4});
  for (const std::string& name : kSolvers) {
    const SolveResult result = accurate_solver(name)->integrate(cos_growth_field(), x0, 0.0, 1.0);
    EXPECT_EQ(result.x.sizes(), x0.sizes()) << name;
    EXPECT_LT(max_abs_diff(result.x, cos_growth_solution(x0, 0.0, 1.0)), round_trip_tolerance(name)) << name;
    EXPECT_EQ(result.accepted_per_sample.sizes(), (std::vector<int64_t>{3})) << name;
  }
}

TEST(SolverContract, NoGraphUnlessAsked) {
  const torch::Tensor x0 = torch::linspace(-1.0, 1.0, 8, torch::kDouble).view({4, 2}).requires_grad_();
  const torch::Tensor theta = torch::tensor({0.5, -0.25}, torch::kDouble).requires_grad_();
  const Field field = [&](const torch::Tensor& x, const torch::Tensor&) { return theta * x; };
  for (const std::string& name : kSolvers) {
    const SolveResult result = accurate_solver(name)->integrate(field, x0, 0.0, 1.0);
    EXPECT_FALSE(result.x.requires_grad()) << name;
    const SolveResult no_time = accurate_solver(name)->integrate(field, x0, 0.5, 0.5);
    EXPECT_FALSE(no_time.x.requires_grad()) << name;
    EXPECT_TRUE(torch::equal(no_time.x, x0.detach())) << name;
    EXPECT_EQ(no_time.nfe, 0) << name;
  }
}

// dx/dt = theta with constant theta [3] from 0 to 1: x(1) = x0 + theta, so
// d sum(x(1)) / d theta = 1 and d sum(x(1)) / d x0 = 1, element by element.
TEST(SolverContract, GradientsFlowWhenEnabled) {
  for (const std::string& name : kSolvers) {
    const torch::Tensor theta = torch::tensor({0.3, -1.0, 2.0}, torch::kDouble).requires_grad_();
    const torch::Tensor x0 = torch::tensor({{1.0, 2.0, 3.0}}, torch::kDouble).requires_grad_();
    const Field field = [&](const torch::Tensor& x, const torch::Tensor&) { return theta.expand_as(x); };
    const SolveResult result = accurate_solver(name, /*enable_grad=*/true)->integrate(field, x0, 0.0, 1.0);
    ASSERT_TRUE(result.x.requires_grad()) << name;
    EXPECT_LT(max_abs_diff(result.x.detach(), x0.detach() + theta.detach()), 1e-12) << name;
    result.x.sum().backward();
    EXPECT_LT(max_abs_diff(theta.grad(), torch::ones({3}, torch::kDouble)), 1e-12) << name;
    EXPECT_LT(max_abs_diff(x0.grad(), torch::ones({1, 3}, torch::kDouble)), 1e-12) << name;
  }
}

// dx/dt = a x: Euler with N steps gives x0 (1 + a/N)^N, whose derivative in a is
// x0 (1 + a/N)^(N-1) exactly; dopri5 gives x0 e^a to its tolerance.
TEST(SolverContract, GradientOfAGrowthRate) {
  const torch::Tensor x0 = torch::tensor({{1.0, -2.0}, {0.5, 4.0}}, torch::kDouble);
  const double rate_value = 0.7;
  const double x0_sum = x0.sum().item<double>();
  {
    const torch::Tensor rate = torch::tensor(rate_value, torch::kDouble).requires_grad_();
    const Field field = [&](const torch::Tensor& x, const torch::Tensor&) { return rate * x; };
    accurate_solver("euler", true)->integrate(field, x0, 0.0, 1.0).x.sum().backward();
    EXPECT_NEAR(rate.grad().item<double>(), x0_sum * std::pow(1.0 + rate_value / 100, 99), 1e-12);
  }
  {
    const torch::Tensor rate = torch::tensor(rate_value, torch::kDouble).requires_grad_();
    const Field field = [&](const torch::Tensor& x, const torch::Tensor&) { return rate * x; };
    accurate_solver("dopri5", true)->integrate(field, x0, 0.0, 1.0).x.sum().backward();
    EXPECT_NEAR(rate.grad().item<double>(), x0_sum * std::exp(rate_value), 1e-6);
  }
}

TEST(SolverContract, WrongFieldShapeNamesBothShapes) {
  const Field flattening = [](const torch::Tensor& x, const torch::Tensor&) { return x.flatten(1); };
  for (const std::string& name : kSolvers) {
    try {
      accurate_solver(name)->integrate(flattening, torch::ones({2, 1, 4, 4}), 0.0, 1.0);
      ADD_FAILURE() << name << ": expected an error";
    } catch (const c10::Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("[2, 16]"), std::string::npos) << message;
      EXPECT_NE(message.find("[2, 1, 4, 4]"), std::string::npos) << message;
    }
  }
}

TEST(SolverContract, BadInitialStateIsAnError) {
  const Field decay = [](const torch::Tensor& x, const torch::Tensor&) { return -x; };
  for (const std::string& name : kSolvers) {
    const auto solver = accurate_solver(name);
    EXPECT_THROW(solver->integrate(decay, torch::ones({}), 0.0, 1.0), c10::Error) << name;
    EXPECT_THROW(solver->integrate(decay, torch::ones({2, 2}, torch::kLong), 0.0, 1.0), c10::Error) << name;
    EXPECT_THROW(solver->integrate(decay, torch::ones({2, 2}), 0.0, NAN), c10::Error) << name;
    torch::Tensor x0 = torch::ones({3, 2});
    x0[1][0] = NAN;
    try {
      solver->integrate(decay, x0, 0.25, 1.0);
      ADD_FAILURE() << name << ": expected an error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("at t=0.25 is non-finite for 1 of 3 samples"), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace flowlab::solvers
