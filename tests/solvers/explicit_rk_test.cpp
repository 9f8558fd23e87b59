// Fixed-step Runge-Kutta: tableau consistency, measured convergence order,
// evaluation counts and the time grid.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/solvers/runge_kutta.h"
#include "flowlab/solvers/solver.h"
#include "solvers/analytic_odes.h"

namespace flowlab::solvers {
namespace {

using analytic::cos_growth_field;
using analytic::cos_growth_solution;
using analytic::max_abs_diff;

// Row sums of a equal c (stage times consistent), weights sum to 1, and the
// embedded error weights sum to 0 (both methods consistent).
void expect_consistent(const ButcherTableau& tableau) {
  SCOPED_TRACE(tableau.name);
  ASSERT_EQ(tableau.a.size(), tableau.c.size());
  ASSERT_EQ(tableau.b.size(), tableau.c.size());
  EXPECT_EQ(tableau.c[0], 0.0);
  for (size_t i = 0; i < tableau.a.size(); ++i) {
    ASSERT_EQ(tableau.a[i].size(), i);
    double row_sum = 0.0;
    for (double a : tableau.a[i]) row_sum += a;
    EXPECT_NEAR(row_sum, tableau.c[i], 1e-14) << "row " << i;
  }
  double b_sum = 0.0;
  for (double b : tableau.b) b_sum += b;
  EXPECT_NEAR(b_sum, 1.0, 1e-14);
  if (!tableau.error_weights.empty()) {
    double e_sum = 0.0;
    for (double e : tableau.error_weights) e_sum += e;
    EXPECT_NEAR(e_sum, 0.0, 1e-14);
  }
}

TEST(ButcherTableau, EveryTableauIsConsistent) {
  for (const ButcherTableau* tableau : fixed_step_tableaux()) expect_consistent(*tableau);
  expect_consistent(dormand_prince_tableau());
}

TEST(ButcherTableau, DormandPrinceLastStageIsTheSolution) {
  const ButcherTableau& dp = dormand_prince_tableau();
  ASSERT_EQ(dp.stages(), 7);
  for (size_t j = 0; j < 6; ++j) EXPECT_DOUBLE_EQ(dp.a[6][j], dp.b[j]) << j;
  EXPECT_EQ(dp.b[6], 0.0);
  EXPECT_EQ(dp.c[6], 1.0);
}

// Least-squares slope of log(error) against log(h).
double fitted_order(const std::vector<double>& step_sizes, const std::vector<double>& errors) {
  const double n = static_cast<double>(step_sizes.size());
  double mean_x = 0, mean_y = 0;
  for (size_t i = 0; i < step_sizes.size(); ++i) {
    mean_x += std::log(step_sizes[i]) / n;
    mean_y += std::log(errors[i]) / n;
  }
  double cov = 0, var = 0;
  for (size_t i = 0; i < step_sizes.size(); ++i) {
    const double dx = std::log(step_sizes[i]) - mean_x;
    cov += dx * (std::log(errors[i]) - mean_y);
    var += dx * dx;
  }
  return cov / var;
}

struct OrderCase {
  const char* name;
  double expected_order;
};

class ConvergenceOrder : public ::testing::TestWithParam<OrderCase> {};

// dx/dt = cos(t) x on [0, 2] (and back from 2 to 0), float64, 10..160 steps.
TEST_P(ConvergenceOrder, MatchesTheMethodOrder) {
  const OrderCase c = GetParam();
  const torch::Tensor x0 = torch::tensor({{1.0, -0.5}, {2.0, 0.25}, {-1.5, 3.0}}, torch::kDouble);
  for (const auto& [t0, t1] : std::vector<std::pair<double, double>>{{0.0, 2.0}, {2.0, 0.0}}) {
    SCOPED_TRACE("t0=" + std::to_string(t0) + " t1=" + std::to_string(t1));
    std::vector<double> step_sizes, errors;
    for (int64_t steps : {10, 20, 40, 80, 160}) {
      SolverOptions options;
      options.steps = steps;
      const SolveResult result = make_solver(c.name, options)->integrate(cos_growth_field(), x0, t0, t1);
      step_sizes.push_back(std::abs(t1 - t0) / static_cast<double>(steps));
      errors.push_back(max_abs_diff(result.x, cos_growth_solution(x0, t0, t1)));
    }
    const double order = fitted_order(step_sizes, errors);
    RecordProperty(std::string(t1 > t0 ? "forward" : "backward") + "_order", std::to_string(order));
    EXPECT_NEAR(order, c.expected_order, 0.3) << c.name << " errors from " << errors.front() << " to "
                                              << errors.back();
    // A solver converging to a wrong answer would stall instead of shrinking every time.
    for (size_t i = 1; i < errors.size(); ++i) EXPECT_LT(errors[i], errors[i - 1]) << c.name << " i=" << i;
  }
}

INSTANTIATE_TEST_SUITE_P(FixedStep, ConvergenceOrder,
                         ::testing::Values(OrderCase{"euler", 1.0}, OrderCase{"midpoint", 2.0},
                                           OrderCase{"heun", 2.0}, OrderCase{"rk4", 4.0}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FixedStep, CountsEvaluationsAndSteps) {
  const std::vector<std::pair<const char*, int64_t>> stages = {
      {"euler", 1}, {"midpoint", 2}, {"heun", 2}, {"rk4", 4}};
  const torch::Tensor x0 = torch::ones({5, 2}, torch::kDouble);
  for (const auto& [name, per_step] : stages) {
    SolverOptions options;
    options.steps = 7;
    const SolveResult result = make_solver(name, options)->integrate(cos_growth_field(), x0, 0.0, 1.0);
    EXPECT_EQ(result.nfe, 7 * per_step) << name;
    EXPECT_EQ(result.steps, 7) << name;
    EXPECT_EQ(result.accepted, 7 * 5) << name;
    EXPECT_EQ(result.rejected, 0) << name;
    EXPECT_TRUE(torch::equal(result.accepted_per_sample, torch::full({5}, 7, torch::kLong))) << name;
  }
}

// Euler on dx/dt = t evaluates exactly the left grid points 0, 0.25, 0.5, 0.75:
// x(1) = sum of them times h = 0.375, which tells the time grid is right.
TEST(FixedStep, EulerUsesTheUniformGrid) {
  std::vector<double> seen;
  const Field field = [&](const torch::Tensor& x, const torch::Tensor& t) {
    seen.push_back(t[0].item<double>());
    return t.view({-1, 1}).expand_as(x).clone();
  };
  SolverOptions options;
  options.steps = 4;
  const SolveResult result = make_solver("euler", options)->integrate(field, torch::zeros({2, 1}, torch::kDouble), 0.0, 1.0);
  EXPECT_EQ(seen, (std::vector<double>{0.0, 0.25, 0.5, 0.75}));
  EXPECT_NEAR(result.x[0][0].item<double>(), 0.375, 1e-15);
}

TEST(FixedStep, FloatStateGetsFloatTime) {
  const torch::Tensor x0 = torch::ones({4, 3}, torch::kFloat);
  SolverOptions options;
  options.steps = 20;
  const SolveResult result = make_solver("rk4", options)->integrate(cos_growth_field(), x0, 0.0, 1.0);
  EXPECT_EQ(result.x.scalar_type(), torch::kFloat);
  EXPECT_LT(max_abs_diff(result.x, cos_growth_solution(x0, 0.0, 1.0)), 1e-5);
}

TEST(FixedStep, StepsBelowOneIsAnError) {
  SolverOptions options;
  options.steps = 0;
  try {
    make_solver("heun", options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("steps must be >= 1, got 0"), std::string::npos) << e.what();
  }
}

TEST(FixedStep, NonFiniteStateNamesTheTime) {
  // The field blows up from t = 0.6 on, so the state after the step from 0.6 to 0.7 is infinite.
  const Field field = [](const torch::Tensor& x, const torch::Tensor& t) {
    return t[0].item<double>() > 0.55 ? torch::full_like(x, INFINITY) : -x;
  };
  SolverOptions options;
  options.steps = 10;
  try {
    make_solver("euler", options)->integrate(field, torch::ones({3, 2}, torch::kDouble), 0.0, 1.0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("non-finite at t=0.7"), std::string::npos) << message;
    EXPECT_NE(message.find("3 of 3 samples"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace flowlab::solvers
