#pragma once
// Linear SDEs with closed-form laws, the exact law of a solver's discrete
// scheme on them, and moment checks with tolerances from standard errors.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "flowlab/solvers/sde.h"

namespace flowlab::solvers::linear_sde {

/// The SDE solvers every contract is checked on.
inline const std::vector<std::string> kSolvers = {"euler_maruyama", "stochastic_heun"};

/// A solver of `steps` steps.
inline std::unique_ptr<SdeSolver> solver(const std::string& name, int64_t steps, FinalStep final_step = FinalStep::kNoise,
                                  bool enable_grad = false) {
  SdeSolverOptions options;
  options.steps = steps;
  options.final_step = final_step;
  options.enable_grad = enable_grad;
  return make_sde_solver(name, options);
}

/// A one-dimensional Gaussian law.
struct GaussianLaw {
  double mean = 0.0;
  double variance = 0.0;
};

/// t [B] broadcast against x [B, ...].
inline torch::Tensor per_row(const torch::Tensor& t, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  return t.view(shape);
}

/// f(x, t) = -theta x, checking the field contract (t [B] in x's dtype).
inline Field ou_drift(double theta) {
  return [theta](const torch::Tensor& x, const torch::Tensor& t) {
    EXPECT_EQ(t.dim(), 1);
    EXPECT_EQ(t.size(0), x.size(0));
    EXPECT_EQ(t.scalar_type(), x.scalar_type());
    return -theta * x;
  };
}

inline Diffusion constant_diffusion(double g) {
  return [g](const torch::Tensor& t) { return torch::full_like(t, g); };
}

/// Law at time T of dX = -theta X dt + sigma dW from X0 ~ start (Ornstein-Uhlenbeck).
inline GaussianLaw ou_law(double theta, double sigma, GaussianLaw start, double T) {
  const double decay = std::exp(-theta * T);
  return {start.mean * decay,
          start.variance * decay * decay + sigma * sigma * (1.0 - decay * decay) / (2.0 * theta)};
}

/// Law at time T (<= 1) of dX = -theta X dt + sqrt(2 eps0 (1 - t)) dW from X0 ~ start:
/// Var = v e^{-2 theta T} + int_0^T e^{-2 theta (T - s)} 2 eps0 (1 - s) ds.
inline GaussianLaw ou_linear_decay_law(double theta, double eps0, GaussianLaw start, double T) {
  const double a = 2.0 * theta;
  const double decay2 = std::exp(-a * T);
  const double integral = (1.0 - T) * (1.0 - decay2) / a + 1.0 / (a * a) - decay2 * (T / a + 1.0 / (a * a));
  return {start.mean * std::exp(-theta * T), start.variance * decay2 + 2.0 * eps0 * integral};
}

/// g(t)^2 as a plain function of time, for the recursions below.
using SquaredDiffusion = std::function<double(double t)>;

/// The law after `steps` uniform Euler-Maruyama steps from t0 to t1 of
/// dX = -theta X dt + g(t) dW: m' = (1 - theta h) m, v' = (1 - theta h)^2 v + h g(t_k)^2
/// (no noise term on the last step unless final_noise).
inline GaussianLaw euler_maruyama_law(double theta, const SquaredDiffusion& g2, GaussianLaw start, double t0,
                                      double t1, int64_t steps, bool final_noise) {
  const double h = (t1 - t0) / static_cast<double>(steps);
  const double a = 1.0 - theta * h;
  GaussianLaw law = start;
  for (int64_t k = 0; k < steps; ++k) {
    const double t = t0 + (t1 - t0) * static_cast<double>(k) / static_cast<double>(steps);
    const bool noisy = final_noise || k + 1 < steps;
    law = {a * law.mean, a * a * law.variance + (noisy ? h * g2(t) : 0.0)};
  }
  return law;
}

/// The same for stochastic Heun: x' = A x + sqrt(h) g (1 - theta h / 2) xi with
/// A = 1 - theta h + (theta h)^2 / 2 and g^2 = (g(t_k)^2 + g(t_k + h)^2) / 2.
inline GaussianLaw stochastic_heun_law(double theta, const SquaredDiffusion& g2, GaussianLaw start, double t0,
                                       double t1, int64_t steps, bool final_noise) {
  const double h = (t1 - t0) / static_cast<double>(steps);
  const double a = 1.0 - theta * h + 0.5 * (theta * h) * (theta * h);
  const double noise_gain = (1.0 - 0.5 * theta * h) * (1.0 - 0.5 * theta * h);
  GaussianLaw law = start;
  for (int64_t k = 0; k < steps; ++k) {
    const double t = t0 + (t1 - t0) * static_cast<double>(k) / static_cast<double>(steps);
    const bool noisy = final_noise || k + 1 < steps;
    const double step_g2 = 0.5 * (g2(t) + g2(t + h));
    law = {a * law.mean, a * a * law.variance + (noisy ? h * step_g2 * noise_gain : 0.0)};
  }
  return law;
}

/// euler_maruyama_law or stochastic_heun_law by solver name.
inline GaussianLaw recursion_law(const std::string& solver, double theta, const SquaredDiffusion& g2,
                                 GaussianLaw start, double t0, double t1, int64_t steps, bool final_noise) {
  return solver == "euler_maruyama" ? euler_maruyama_law(theta, g2, start, t0, t1, steps, final_noise)
                                    : stochastic_heun_law(theta, g2, start, t0, t1, steps, final_noise);
}

/// The exact law of a solver's result for a drift linear in x (f(x, t) = c(t) x)
/// and X0 ~ start: the scheme is then linear, X_N = a X0 + sum_k c_k xi_k, so one
/// batched solve with unit inputs reads off a and every c_k, with no Monte Carlo.
/// Row 0 starts at 1 with no noise (gives a); row j >= 1 starts at 0 and gets
/// noise 1 at draw j - 1 only (gives c_{j-1}).
inline GaussianLaw scheme_law(const SdeSolver& solver, const Field& linear_drift, const Diffusion& diffusion,
                              GaussianLaw start, double t0, double t1) {
  const int64_t draws = solver.options().steps;  // at most one draw per step
  const int64_t rows = draws + 1;
  torch::Tensor x0 = torch::zeros({rows, 1}, torch::kDouble);
  x0[0][0] = 1.0;
  int64_t draw = 0;
  const NoiseSource unit_noise = [&] {
    torch::Tensor xi = torch::zeros({rows, 1}, torch::kDouble);
    xi[draw + 1][0] = 1.0;
    ++draw;
    return xi;
  };
  const torch::Tensor x = solver.integrate(linear_drift, diffusion, x0, t0, t1, unit_noise).x.squeeze(1);
  const double a = x[0].item<double>();
  const double noise_variance = x.slice(0, 1).square().sum().item<double>();
  return {a * start.mean, a * a * start.variance + noise_variance};
}

inline double sample_mean(const torch::Tensor& v) { return v.mean().item<double>(); }
inline double sample_variance(const torch::Tensor& v) { return v.var().item<double>(); }

/// Checks that the samples v [n] (i.i.d., Gaussian) have the law `expected`
/// within `z` standard errors plus `bias`, a known deterministic offset of the
/// scheme (|scheme law - expected|). SE(mean) = sqrt(var / n);
/// SE(variance) = var sqrt(2 / (n - 1)) for Gaussian samples.
inline void expect_law(const torch::Tensor& v, GaussianLaw expected, GaussianLaw bias = {}, double z = 4.0,
                       const std::string& what = "") {
  const double n = static_cast<double>(v.numel());
  const double se_mean = std::sqrt(expected.variance / n);
  const double se_variance = expected.variance * std::sqrt(2.0 / (n - 1.0));
  EXPECT_NEAR(sample_mean(v), expected.mean, z * se_mean + std::abs(bias.mean)) << what << " mean";
  EXPECT_NEAR(sample_variance(v), expected.variance, z * se_variance + std::abs(bias.variance))
      << what << " variance";
}

}  // namespace flowlab::solvers::linear_sde
