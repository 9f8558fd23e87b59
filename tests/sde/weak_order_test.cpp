// Exact (Monte-Carlo-free) laws of the discrete schemes on linear SDEs: each
// matches its scheme's recursion in closed form, and the errors against the
// SDE fall like h for Euler-Maruyama and like h^2 for stochastic Heun.
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

constexpr double kTheta = 1.0;
constexpr double kSigma = 1.0;
constexpr double kEps0 = 0.5;
const GaussianLaw kStart = {1.0, 0.3};

using linear_sde::solver;

Diffusion linear_decay_diffusion() {
  EpsScheduleOptions schedule;
  schedule.type = "linear_decay";
  schedule.eps = kEps0;
  return diffusion_from_eps(make_eps_schedule(schedule));
}

// g(t)^2 of linear_decay_diffusion().
double linear_decay_g2(double t) { return 2.0 * kEps0 * (1.0 - t); }

double constant_g2(double) { return kSigma * kSigma; }

GaussianLaw recursion(const std::string& name, int64_t n, double (*g2)(double), bool final_noise) {
  return linear_sde::recursion_law(name, kTheta, g2, kStart, 0.0, 1.0, n, final_noise);
}

TEST(SchemeLaw, MatchesEachSchemesRecursion) {
  const Field drift = linear_sde::ou_drift(kTheta);
  for (const std::string name : {"euler_maruyama", "stochastic_heun"}) {
    for (const FinalStep final_step : {FinalStep::kNoise, FinalStep::kMean}) {
      const bool final_noise = final_step == FinalStep::kNoise;
      const auto s = solver(name, 13, final_step);
      const GaussianLaw constant =
          linear_sde::scheme_law(*s, drift, linear_sde::constant_diffusion(kSigma), kStart, 0.0, 1.0);
      const GaussianLaw constant_expected = recursion(name, 13, constant_g2, final_noise);
      EXPECT_NEAR(constant.mean, constant_expected.mean, 1e-14) << name;
      EXPECT_NEAR(constant.variance, constant_expected.variance, 1e-14) << name;
      const GaussianLaw decaying = linear_sde::scheme_law(*s, drift, linear_decay_diffusion(), kStart, 0.0, 1.0);
      const GaussianLaw decaying_expected = recursion(name, 13, linear_decay_g2, final_noise);
      EXPECT_NEAR(decaying.mean, decaying_expected.mean, 1e-14) << name;
      EXPECT_NEAR(decaying.variance, decaying_expected.variance, 1e-14) << name;
    }
  }
}

// Errors of the mean and variance at t = 1 for n = 20, 40, 80, 160 steps; each
// halving of h must divide them by 2^order (within 10%).
void expect_weak_order(const std::string& name, int order, const Diffusion& g, GaussianLaw exact) {
  const Field drift = linear_sde::ou_drift(kTheta);
  std::vector<GaussianLaw> errors;
  for (const int64_t n : {20, 40, 80, 160}) {
    const GaussianLaw law = linear_sde::scheme_law(*solver(name, n), drift, g, kStart, 0.0, 1.0);
    errors.push_back({law.mean - exact.mean, law.variance - exact.variance});
  }
  const double expected_ratio = std::pow(2.0, order);
  for (size_t i = 0; i + 1 < errors.size(); ++i) {
    EXPECT_NEAR(errors[i].mean / errors[i + 1].mean, expected_ratio, 0.1 * expected_ratio) << name << " mean " << i;
    EXPECT_NEAR(errors[i].variance / errors[i + 1].variance, expected_ratio, 0.1 * expected_ratio)
        << name << " variance " << i;
  }
}

TEST(WeakOrder, ConstantDiffusion) {
  const GaussianLaw exact = linear_sde::ou_law(kTheta, kSigma, kStart, 1.0);
  expect_weak_order("euler_maruyama", 1, linear_sde::constant_diffusion(kSigma), exact);
  expect_weak_order("stochastic_heun", 2, linear_sde::constant_diffusion(kSigma), exact);
}

// Heun keeps order 2 with g(t) only because it uses the endpoint root mean
// square of g; with g(t_k) alone its variance error would fall like h.
TEST(WeakOrder, TimeDependentDiffusion) {
  const GaussianLaw exact = linear_sde::ou_linear_decay_law(kTheta, kEps0, kStart, 1.0);
  expect_weak_order("euler_maruyama", 1, linear_decay_diffusion(), exact);
  expect_weak_order("stochastic_heun", 2, linear_decay_diffusion(), exact);
}

TEST(WeakOrder, HeunIsMoreAccurateAtEqualCost) {
  // 50 Heun steps cost as many drift evaluations as 100 Euler-Maruyama steps.
  const Field drift = linear_sde::ou_drift(kTheta);
  const Diffusion g = linear_decay_diffusion();
  const GaussianLaw exact = linear_sde::ou_linear_decay_law(kTheta, kEps0, kStart, 1.0);
  const GaussianLaw heun = linear_sde::scheme_law(*solver("stochastic_heun", 50), drift, g, kStart, 0.0, 1.0);
  const GaussianLaw euler = linear_sde::scheme_law(*solver("euler_maruyama", 100), drift, g, kStart, 0.0, 1.0);
  EXPECT_LT(std::abs(heun.variance - exact.variance), 0.1 * std::abs(euler.variance - exact.variance));
  EXPECT_LT(std::abs(heun.mean - exact.mean), 0.1 * std::abs(euler.mean - exact.mean));
}

// Pure diffusion, f = 0: Euler-Maruyama sums h g(t_k)^2 (a left Riemann sum),
// Heun the trapezoid rule, which is exact for linear g^2: int_0^1 2 eps0 (1 - t) dt = eps0.
TEST(WeakOrder, PureDiffusionVariance) {
  const Field zero = [](const torch::Tensor& x, const torch::Tensor&) { return torch::zeros_like(x); };
  const int64_t n = 10;
  const double h = 0.1;
  const GaussianLaw heun =
      linear_sde::scheme_law(*solver("stochastic_heun", n), zero, linear_decay_diffusion(), {0.0, 0.0}, 0.0, 1.0);
  EXPECT_NEAR(heun.variance, kEps0, 1e-14);
  const GaussianLaw euler =
      linear_sde::scheme_law(*solver("euler_maruyama", n), zero, linear_decay_diffusion(), {0.0, 0.0}, 0.0, 1.0);
  EXPECT_NEAR(euler.variance, kEps0 * (1.0 + h), 1e-14);
}

}  // namespace
}  // namespace flowlab::solvers
