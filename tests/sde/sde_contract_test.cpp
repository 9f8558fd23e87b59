// What every SDE solver promises: batch-size invariant samples, the final mean
// step, evaluation counts, no graph unless asked, and clear errors.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/solvers/sde.h"
#include "sde/linear_sde.h"

namespace flowlab::solvers {
namespace {

using linear_sde::per_row;

using linear_sde::kSolvers;
constexpr uint64_t kContractSeed = 7;

using linear_sde::solver;

// A nonlinear, time-dependent drift that treats rows independently.
const Field kNonlinearDrift = [](const torch::Tensor& x, const torch::Tensor& t) {
  return -x.pow(3) + torch::sin(3.0 * per_row(t, x)) * x + 0.5;
};
const Diffusion kTimeDependentDiffusion = [](const torch::Tensor& t) { return 0.3 + t.square(); };

// Samples 0 .. total-1 solved in batches of `batch`, each with its global indices.
torch::Tensor solve_in_batches(const SdeSolver& s, const torch::Tensor& x0, int64_t batch) {
  std::vector<torch::Tensor> parts;
  for (int64_t first = 0; first < x0.size(0); first += batch) {
    const torch::Tensor part = x0.slice(0, first, std::min(first + batch, x0.size(0)));
    NoiseStream noise = NoiseStream::for_state(kContractSeed, first, part);
    parts.push_back(s.integrate(kNonlinearDrift, kTimeDependentDiffusion, part, 0.0, 1.0, noise).x);
  }
  return torch::cat(parts);
}

TEST(SdeSolverContract, SamplesDoNotDependOnTheBatchSize) {
  const torch::Tensor x0 = torch::linspace(-2.0, 2.0, 100, torch::kDouble).view({50, 2});
  for (const std::string& name : kSolvers) {
    for (const FinalStep final_step : {FinalStep::kNoise, FinalStep::kMean}) {
      const auto s = solver(name, 20, final_step);
      const torch::Tensor whole = solve_in_batches(*s, x0, 50);
      EXPECT_TRUE(torch::equal(solve_in_batches(*s, x0, 7), whole)) << name;
      EXPECT_TRUE(torch::equal(solve_in_batches(*s, x0, 1), whole)) << name;
      // The solves really are random: another seed moves every sample.
      NoiseStream other = NoiseStream::for_state(kContractSeed + 1, 0, x0);
      const torch::Tensor reseeded = s->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 0.0, 1.0, other).x;
      EXPECT_GT((reseeded - whole).abs().min().item<double>(), 0.0) << name;
    }
  }
}

// f = 0: x1 = x0 + sqrt(h) sum_k g xi_k, so final_step noise minus final_step
// mean is exactly the last increment sqrt(h) g xi_{steps-1}.
TEST(SdeSolverContract, FinalMeanStepDropsExactlyTheLastIncrement) {
  const Field zero = [](const torch::Tensor& x, const torch::Tensor&) { return torch::zeros_like(x); };
  const double g = 0.8;
  const int64_t steps = 5;
  const torch::Tensor x0 = torch::zeros({64, 3}, torch::kDouble);
  for (const std::string& name : kSolvers) {
    NoiseStream noisy_stream = NoiseStream::for_state(kContractSeed, 0, x0);
    NoiseStream mean_stream = NoiseStream::for_state(kContractSeed, 0, x0);
    const torch::Tensor noisy =
        solver(name, steps, FinalStep::kNoise)->integrate(zero, linear_sde::constant_diffusion(g), x0, 0.0, 1.0, noisy_stream).x;
    const torch::Tensor mean =
        solver(name, steps, FinalStep::kMean)->integrate(zero, linear_sde::constant_diffusion(g), x0, 0.0, 1.0, mean_stream).x;
    const torch::Tensor last_increment = std::sqrt(1.0 / steps) * g * noisy_stream.draw(steps - 1);
    EXPECT_TRUE(torch::allclose(noisy - mean, last_increment, 1e-12, 1e-14)) << name;
    EXPECT_GT(last_increment.abs().min().item<double>(), 0.0) << name;
  }
}

TEST(SdeSolverContract, DrawsOnceForEachNoisyStep) {
  const torch::Tensor x0 = torch::zeros({3, 2}, torch::kDouble);
  for (const std::string& name : kSolvers) {
    for (const FinalStep final_step : {FinalStep::kNoise, FinalStep::kMean}) {
      int64_t draws = 0;
      const NoiseSource counting = [&] {
        ++draws;
        return torch::zeros({3, 2}, torch::kDouble);
      };
      const SdeSolveResult result =
          solver(name, 6, final_step)->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 0.0, 1.0, counting);
      EXPECT_EQ(draws, final_step == FinalStep::kNoise ? 6 : 5) << name;
      EXPECT_EQ(result.steps, 6) << name;
      EXPECT_EQ(result.nfe, name == "euler_maruyama" ? 6 : 12) << name;
    }
  }
}

// Without noise each solver is its ODE method: x' = -x gives (1 - h)^n and (1 - h + h^2 / 2)^n.
TEST(SdeSolverContract, WithoutNoiseIsTheDeterministicMethod) {
  const torch::Tensor x0 = torch::tensor({{1.0}, {-2.0}}, torch::kDouble);
  const Diffusion none = linear_sde::constant_diffusion(0.0);
  const int64_t n = 8;
  const double h = 0.5 / n;
  NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
  const torch::Tensor euler =
      solver("euler_maruyama", n)->integrate(linear_sde::ou_drift(1.0), none, x0, 0.25, 0.75, noise).x;
  EXPECT_TRUE(torch::allclose(euler, x0 * std::pow(1.0 - h, n), 1e-14, 0.0));
  const torch::Tensor heun =
      solver("stochastic_heun", n)->integrate(linear_sde::ou_drift(1.0), none, x0, 0.25, 0.75, noise).x;
  EXPECT_TRUE(torch::allclose(heun, x0 * std::pow(1.0 - h + 0.5 * h * h, n), 1e-14, 0.0));
}

TEST(SdeSolverContract, WorksOnImageShapedFloat32State) {
  const torch::Tensor x0 = torch::linspace(-1.0, 1.0, 48).view({3, 1, 4, 4});
  for (const std::string& name : kSolvers) {
    NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
    const torch::Tensor x = solver(name, 10)->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 0.0, 1.0, noise).x;
    EXPECT_EQ(x.sizes(), x0.sizes()) << name;
    EXPECT_EQ(x.scalar_type(), torch::kFloat) << name;
    // float32 noise is float64 noise rounded, so the float64 solve is close.
    NoiseStream noise64 = NoiseStream::for_state(kContractSeed, 0, x0.to(torch::kDouble));
    const torch::Tensor x64 = solver(name, 10)
                                  ->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0.to(torch::kDouble), 0.0,
                                              1.0, noise64)
                                  .x;
    EXPECT_TRUE(torch::allclose(x.to(torch::kDouble), x64, 1e-4, 1e-5)) << name;
  }
}

TEST(SdeSolverContract, NoGraphUnlessAsked) {
  const torch::Tensor x0 = torch::linspace(-1.0, 1.0, 8, torch::kDouble).view({4, 2}).requires_grad_();
  const torch::Tensor theta = torch::tensor(0.5, torch::kDouble).requires_grad_();
  const Field drift = [&](const torch::Tensor& x, const torch::Tensor&) { return theta * x; };
  for (const std::string& name : kSolvers) {
    NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
    const torch::Tensor x = solver(name, 5)->integrate(drift, kTimeDependentDiffusion, x0, 0.0, 1.0, noise).x;
    EXPECT_FALSE(x.requires_grad()) << name;
    EXPECT_EQ(x.grad_fn(), nullptr) << name;
  }
}

// dx = theta x dt + g dW is linear in x0 with gain (1 + theta h)^n (Euler-Maruyama)
// or (1 + theta h + (theta h)^2 / 2)^n (Heun), whatever the noise.
TEST(SdeSolverContract, GradientsWhenAsked) {
  const double theta_value = 0.5;
  const int64_t n = 5;
  const double h = 1.0 / n;
  for (const std::string& name : kSolvers) {
    const torch::Tensor x0 = torch::linspace(-1.0, 1.0, 8, torch::kDouble).view({4, 2}).requires_grad_();
    const torch::Tensor theta = torch::tensor(theta_value, torch::kDouble).requires_grad_();
    const Field drift = [&](const torch::Tensor& x, const torch::Tensor&) { return theta * x; };
    NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
    const torch::Tensor x =
        solver(name, n, FinalStep::kNoise, true)->integrate(drift, kTimeDependentDiffusion, x0, 0.0, 1.0, noise).x;
    ASSERT_TRUE(x.requires_grad()) << name;
    x.sum().backward();
    const double step_gain =
        name == "euler_maruyama" ? 1.0 + theta_value * h : 1.0 + theta_value * h + 0.5 * theta_value * h * theta_value * h;
    EXPECT_TRUE(torch::allclose(x0.grad(), torch::full_like(x0, std::pow(step_gain, n)), 1e-12, 0.0)) << name;
    EXPECT_TRUE(theta.grad().defined()) << name;
  }
}

TEST(SdeSolverContract, RefusesBackwardAndEmptyIntervals) {
  const torch::Tensor x0 = torch::zeros({2, 2}, torch::kDouble);
  for (const std::string& name : kSolvers) {
    NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
    EXPECT_THROW(solver(name, 4)->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 1.0, 0.0, noise), Error)
        << name;
    EXPECT_THROW(solver(name, 4)->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 0.5, 0.5, noise), Error)
        << name;
    EXPECT_THROW(solver(name, 4)->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 0.0, NAN, noise),
                 std::exception)
        << name;
  }
}

TEST(SdeSolverContract, RefusesFewerThanOneStep) {
  for (const std::string& name : kSolvers) {
    EXPECT_THROW(solver(name, 0), Error) << name;
    EXPECT_THROW(solver(name, -3), Error) << name;
  }
}

TEST(SdeSolverContract, RejectsMisshapenNoiseAndDiffusion) {
  const torch::Tensor x0 = torch::zeros({4, 2}, torch::kDouble);
  for (const std::string& name : kSolvers) {
    NoiseStream wrong_batch(kContractSeed, 0, 3, {2}, torch::kDouble);
    EXPECT_THROW(solver(name, 2)->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 0.0, 1.0, wrong_batch),
                 c10::Error)
        << name;
    NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
    const Diffusion per_element = [](const torch::Tensor& t) { return torch::ones({t.size(0), 2}, t.options()); };
    EXPECT_THROW(solver(name, 2)->integrate(kNonlinearDrift, per_element, x0, 0.0, 1.0, noise), c10::Error) << name;
  }
}

TEST(SdeSolverContract, NonFiniteStateNamesTheStep) {
  const torch::Tensor x0 = torch::ones({3, 1}, torch::kDouble);
  const Field blow_up = [](const torch::Tensor& x, const torch::Tensor& t) {
    return torch::where(per_row(t, x) >= 0.5, torch::full_like(x, INFINITY), torch::zeros_like(x));
  };
  for (const std::string& name : kSolvers) {
    NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
    try {
      solver(name, 4)->integrate(blow_up, kTimeDependentDiffusion, x0, 0.0, 1.0, noise);
      FAIL() << name << ": expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("of 4"), std::string::npos) << e.what();
    }
  }
}

TEST(SdeSolverContract, EmptyBatchIsReturnedAsIs) {
  const torch::Tensor x0 = torch::zeros({0, 2}, torch::kDouble);
  for (const std::string& name : kSolvers) {
    NoiseStream noise = NoiseStream::for_state(kContractSeed, 0, x0);
    const SdeSolveResult result = solver(name, 4)->integrate(kNonlinearDrift, kTimeDependentDiffusion, x0, 0.0, 1.0, noise);
    EXPECT_EQ(result.x.sizes(), x0.sizes()) << name;
    EXPECT_EQ(result.nfe, 0) << name;
  }
}

}  // namespace
}  // namespace flowlab::solvers
