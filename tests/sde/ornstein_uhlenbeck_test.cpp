// Monte Carlo: solver + NoiseStream reproduce closed-form laws of linear SDEs.
// 20000 float64 samples; tolerances are 4 standard errors plus the scheme's
// discretisation bias, taken from the scheme's recursion in closed form
// (linear_sde::recursion_law), never from the solver under test.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "flowlab/solvers/eps_schedule.h"
#include "flowlab/solvers/sde.h"
#include "sde/linear_sde.h"

namespace flowlab::solvers {
namespace {

using linear_sde::GaussianLaw;

constexpr int64_t kSamples = 20000;
constexpr uint64_t kSolverSeed = 11;
constexpr uint64_t kStartSeed = 12;  // draws X0; independent of the solver's noise
using linear_sde::kSolvers;

using linear_sde::solver;

// X0 ~ N(start.mean, start.variance), [n, 1] float64.
torch::Tensor gaussian_start(GaussianLaw start, int64_t n = kSamples) {
  return start.mean + std::sqrt(start.variance) * NoiseStream(kStartSeed, 0, n, {1}, torch::kDouble).draw(0);
}

GaussianLaw difference(GaussianLaw a, GaussianLaw b) { return {a.mean - b.mean, a.variance - b.variance}; }

// Solves dX = -theta X dt + g(t) dW from `x0` (drawn from `start`) over
// [t0, t1] with NoiseStream noise and checks the law at t1 against `exact`.
void expect_solution_law(const SdeSolver& s, double theta, const Diffusion& g, const linear_sde::SquaredDiffusion& g2,
                         const torch::Tensor& x0, GaussianLaw start, double t0, double t1, GaussianLaw exact) {
  NoiseStream noise = NoiseStream::for_state(kSolverSeed, 0, x0);
  const torch::Tensor x = s.integrate(linear_sde::ou_drift(theta), g, x0, t0, t1, noise).x;
  const bool final_noise = s.options().final_step == FinalStep::kNoise;
  const GaussianLaw scheme =
      linear_sde::recursion_law(s.name(), theta, g2, start, t0, t1, s.options().steps, final_noise);
  linear_sde::expect_law(x.flatten(), exact, difference(scheme, exact), 4.0, s.name());
}

TEST(OrnsteinUhlenbeck, FromAPointMatchesTheClosedForm) {
  const double theta = 1.2, sigma = 0.8, x_start = 2.0;
  const GaussianLaw start = {x_start, 0.0};
  const GaussianLaw exact = linear_sde::ou_law(theta, sigma, start, 1.0);
  const torch::Tensor x0 = torch::full({kSamples, 1}, x_start, torch::kDouble);
  for (const std::string& name : kSolvers) {
    expect_solution_law(*solver(name, 100), theta, linear_sde::constant_diffusion(sigma),
                        [&](double) { return sigma * sigma; }, x0, start, 0.0, 1.0, exact);
  }
}

TEST(OrnsteinUhlenbeck, FromAGaussianMatchesTheClosedForm) {
  const double theta = 0.7, sigma = 1.5;
  const GaussianLaw start = {-1.0, 0.25};
  // Over [0.5, 1.5]: only the elapsed time matters.
  const GaussianLaw exact = linear_sde::ou_law(theta, sigma, start, 1.0);
  for (const std::string& name : kSolvers) {
    expect_solution_law(*solver(name, 100), theta, linear_sde::constant_diffusion(sigma),
                        [&](double) { return sigma * sigma; }, gaussian_start(start), start, 0.5, 1.5, exact);
  }
}

// g = sqrt(2 eps(t)) with eps(t) = eps0 (1 - t), the linear_decay schedule.
TEST(OrnsteinUhlenbeck, TimeDependentDiffusionMatchesTheClosedForm) {
  const double theta = 0.9, eps0 = 0.6;
  EpsScheduleOptions schedule;
  schedule.type = "linear_decay";
  schedule.eps = eps0;
  const Diffusion g = diffusion_from_eps(make_eps_schedule(schedule));
  const GaussianLaw start = {1.0, 0.5};
  const GaussianLaw exact = linear_sde::ou_linear_decay_law(theta, eps0, start, 1.0);
  for (const std::string& name : kSolvers) {
    expect_solution_law(*solver(name, 100), theta, g, [&](double t) { return 2.0 * eps0 * (1.0 - t); },
                        gaussian_start(start), start, 0.0, 1.0, exact);
  }
}

// dX = -(eps / s^2) X dt + sqrt(2 eps) dW keeps N(0, s^2 I): Langevin dynamics
// for that Gaussian, the generative SDE with b = 0 and score -x / s^2.
TEST(OrnsteinUhlenbeck, LangevinKeepsItsGaussianInvariant) {
  const double s = 1.5, eps = 0.7;
  const double theta = eps / (s * s);
  EpsScheduleOptions schedule;
  schedule.eps = eps;
  const Diffusion g = diffusion_from_eps(make_eps_schedule(schedule));
  const Field drift = [&](const torch::Tensor& x, const torch::Tensor&) { return -theta * x; };
  const int64_t n = kSamples / 2;
  const torch::Tensor x0 = s * NoiseStream(kStartSeed, 0, n, {2}, torch::kDouble).draw(0);
  for (const std::string& name : kSolvers) {
    const auto sde = solver(name, 100);
    NoiseStream noise = NoiseStream::for_state(kSolverSeed, 0, x0);
    const torch::Tensor x = sde->integrate(drift, g, x0, 0.0, 1.0, noise).x;
    // Both coordinates are independent draws: 2n values. The discrete chain's
    // stationary variance differs from s^2 by O(theta h) (EM: s^2 / (1 - theta h / 2)).
    const GaussianLaw invariant = {0.0, s * s};
    const GaussianLaw scheme =
        linear_sde::recursion_law(name, theta, [&](double) { return 2.0 * eps; }, invariant, 0.0, 1.0, 100, true);
    const GaussianLaw bias = difference(scheme, invariant);
    linear_sde::expect_law(x.flatten(), invariant, bias, 4.0, name);
    // The state did move: Cov(X1, X0) = s^2 e^{-theta} (SE s^2 sqrt((1 + rho^2) / 2n)).
    const double rho = std::exp(-theta);
    const double covariance = ((x - x.mean()) * (x0 - x0.mean())).mean().item<double>();
    EXPECT_NEAR(covariance, s * s * rho, 4.0 * s * s * std::sqrt((1.0 + rho * rho) / (2.0 * n))) << name;
  }
}

// With f = 0 and final_step mean the last step adds nothing: Var = (steps - 1) h g^2.
TEST(OrnsteinUhlenbeck, FinalMeanStepLeavesOutTheLastIncrement) {
  const double g = 0.8;
  const int64_t steps = 4;
  const double h = 1.0 / steps;
  const Field zero = [](const torch::Tensor& x, const torch::Tensor&) { return torch::zeros_like(x); };
  const torch::Tensor x0 = torch::zeros({kSamples, 1}, torch::kDouble);
  for (const std::string& name : kSolvers) {
    NoiseStream noise = NoiseStream::for_state(kSolverSeed, 0, x0);
    const torch::Tensor x = solver(name, steps, FinalStep::kMean)
                                ->integrate(zero, linear_sde::constant_diffusion(g), x0, 0.0, 1.0, noise)
                                .x;
    linear_sde::expect_law(x.flatten(), {0.0, (steps - 1) * h * g * g}, {}, 4.0, name);
    EXPECT_EQ(noise.next_step(), steps - 1) << name;
  }
}

}  // namespace
}  // namespace flowlab::solvers
