// Generative SDE dX = (b + eps(t) s) dt + sqrt(2 eps(t)) dW on Gaussian endpoints
// (theory.md 10.1): rho0 = N(0, I_2), rho1 = N(mu, sigma1^2 I_2), so every marginal is
// rho_t = N(beta mu, C_t I) with C_t = alpha^2 + beta^2 sigma1^2 + gamma^2, whatever eps(t).
// The drift is built as in `flowlab sample --sde`: paths::sde_drift_field on a two-headed
// (velocity, score) "model" that returns the exact GaussianMixtureFields, the eps schedule
// from make_eps_schedule with paths::noise_level.
//
// Tolerances. 10000 float64 samples. The solver's discrete scheme on this linear drift
// f = A(t) x + c(t) has a Gaussian law computed here in closed form by its recursion
// (scheme_law); each moment must lie within 4 standard errors plus |scheme - exact| of the
// exact moment, and |scheme - exact| itself must stay under a per-solver budget (weak order 1
// for Euler-Maruyama, 2 for stochastic Heun). A wrong eps anywhere (drift or diffusion) breaks
// the balance between the eps s pull and the sqrt(2 eps) push and moves the variance by many
// standard errors.
//
// End time. For non-degenerate Gaussian endpoints the exact fields are finite on all of [0, 1]:
// GaussianMixtureFields uses gamma gamma' in closed form (a (1 - 2t) / 2 for the brownian
// gamma; gamma' alone diverges), and C_1 = sigma1^2 > 0, so b and s are smooth up to t = 1.
// The t = 1 singularities of two-sided paths belong to conversions (s = -eta / gamma) and to
// degenerate data (sigma1 -> 0), not to these fields; so these tests integrate to t = 1 itself,
// with final_step = noise, which keeps the scheme consistent (final_step = mean drops the last
// noise increment, an O(eps h) variance deficit, measured separately below).
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "flowlab/paths/fields.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "flowlab/solvers/eps_schedule.h"
#include "flowlab/solvers/noise_stream.h"
#include "flowlab/solvers/sde.h"
#include "paths/make_path.h"
#include "sampling/sampling_support.h"

namespace flowlab::sampling_test {
namespace {

using solvers::FinalStep;

constexpr int64_t kMomentSamples = 10000;
constexpr uint64_t kStartSeed = 21;   // draws X0
constexpr uint64_t kSolverSeed = 22;  // the solver's Brownian increments
const double kSigma1 = 0.7;

torch::Tensor mu() { return f64({1.0, -2.0}); }


// Isotropic Gaussian law in 2-D: mean [2] and the variance of each coordinate.
struct Law {
  torch::Tensor mean;
  double variance = 0.0;
};

double scalar(const torch::Tensor& v) { return v.item<double>(); }

// Everything about the Gaussian-endpoint path at one time t.
struct PathAt {
  double beta = 0, d_beta = 0;
  double variance = 0;       // C_t
  double half_d_variance = 0;  // C_t' / 2 = alpha alpha' + beta beta' sigma1^2 + gamma gamma'
};

PathAt path_at(const paths::Path& path, double sigma1, double t) {
  const paths::Coefficients k = path.at(f64({t}));
  PathAt p;
  const double alpha = scalar(k.alpha), d_alpha = scalar(k.d_alpha), gamma = scalar(k.gamma);
  p.beta = scalar(k.beta), p.d_beta = scalar(k.d_beta);
  p.variance = alpha * alpha + p.beta * p.beta * sigma1 * sigma1 + gamma * gamma;
  p.half_d_variance = alpha * d_alpha + p.beta * p.d_beta * sigma1 * sigma1 + scalar(k.gamma_d_gamma);
  return p;
}

Law exact_law(const paths::Path& path, double sigma1, double t) {
  const PathAt p = path_at(path, sigma1, t);
  return {p.beta * mu(), p.variance};
}

// The drift b + eps s = A x + c: b = beta' mu + (C'/2C)(x - beta mu), s = -(x - beta mu)/C.
struct AffineDrift {
  double a = 0;
  torch::Tensor c;
};

AffineDrift affine_drift(const paths::Path& path, double sigma1, const solvers::EpsSchedule& eps, double t) {
  const PathAt p = path_at(path, sigma1, t);
  const double e = scalar(eps(f64({t})));
  AffineDrift f;
  f.a = (p.half_d_variance - e) / p.variance;
  f.c = p.d_beta * mu() - f.a * p.beta * mu();
  return f;
}

// The exact law of the solver's scheme (sde.h) on the affine drift, from `start` at t0:
//   euler_maruyama:  x' = x + h (A0 x + c0) + sqrt(2 eps0 h) xi
//   stochastic_heun: p = x + h (A0 x + c0) + G xi, x' = x + h/2 (A0 x + c0 + A1 p + c1) + G xi,
//                    G^2 = h (eps0 + eps1)   [g^2 = 2 eps, averaged at both ends]
// so x' = K x + L + M xi with K = 1 + h/2 (A0 + A1 + h A1 A0), L = h/2 (c0 + c1 + h A1 c0),
// M = G (1 + h A1 / 2).
Law scheme_law(const std::string& solver, const paths::Path& path, double sigma1, const solvers::EpsSchedule& eps,
               Law start, double t0, double t1, int64_t steps, bool final_noise) {
  Law law = start;
  for (int64_t n = 0; n < steps; ++n) {
    const double ta = t0 + (t1 - t0) * static_cast<double>(n) / static_cast<double>(steps);
    const double tb = n + 1 == steps ? t1 : t0 + (t1 - t0) * static_cast<double>(n + 1) / static_cast<double>(steps);
    const double h = tb - ta;
    const bool noisy = n + 1 < steps || final_noise;
    const AffineDrift f0 = affine_drift(path, sigma1, eps, ta);
    const double eps0 = scalar(eps(f64({ta})));
    if (solver == "euler_maruyama") {
      law.mean = (1 + h * f0.a) * law.mean + h * f0.c;
      law.variance = (1 + h * f0.a) * (1 + h * f0.a) * law.variance + (noisy ? 2 * eps0 * h : 0.0);
    } else {
      const AffineDrift f1 = affine_drift(path, sigma1, eps, tb);
      const double eps1 = scalar(eps(f64({tb})));
      const double k = 1 + 0.5 * h * (f0.a + f1.a + h * f1.a * f0.a);
      const double m = noisy ? std::sqrt(h * (eps0 + eps1)) * (1 + 0.5 * h * f1.a) : 0.0;
      law.mean = k * law.mean + 0.5 * h * (f0.c + f1.c + h * f1.a * f0.c);
      law.variance = k * k * law.variance + m * m;
    }
  }
  return law;
}

double max_abs(const torch::Tensor& v) { return v.abs().max().item<double>(); }

// Checks the sample moments of x [N, 2] against the exact law, with 4 standard errors (of the
// scheme's law) plus the scheme's bias; and the bias against `budget` (relative to the variance).
// Returns the largest error in standard errors, for the report.
double expect_moments(const torch::Tensor& x, const Law& exact, const Law& scheme, double budget,
                      const std::string& label) {
  const double n = static_cast<double>(x.size(0));
  const torch::Tensor mean = x.mean(0);
  const torch::Tensor centred = x - mean;
  const torch::Tensor cov = centred.t().matmul(centred) / (n - 1);
  const double variance = 0.5 * (cov[0][0] + cov[1][1]).item<double>();  // pooled over both coordinates
  const double covariance = cov[0][1].item<double>();

  const double se_mean = std::sqrt(scheme.variance / n);
  const double se_variance = scheme.variance * std::sqrt(1.0 / (n - 1));  // two coordinates pooled
  const double se_covariance = scheme.variance / std::sqrt(n);
  const double mean_bias = max_abs(scheme.mean - exact.mean);
  const double variance_bias = std::abs(scheme.variance - exact.variance);

  const double mean_error = max_abs(mean - exact.mean);
  const double variance_error = std::abs(variance - exact.variance);
  EXPECT_LE(mean_error, 4 * se_mean + mean_bias) << label << ": mean " << mean << " vs " << exact.mean;
  EXPECT_LE(variance_error, 4 * se_variance + variance_bias)
      << label << ": variance " << variance << " vs " << exact.variance << " (scheme " << scheme.variance << ")";
  EXPECT_LE(std::abs(covariance), 4 * se_covariance) << label << ": covariance " << covariance;
  EXPECT_LE(variance_bias, budget * exact.variance) << label << ": scheme variance " << scheme.variance;
  EXPECT_LE(mean_bias, budget * std::sqrt(exact.variance)) << label << ": scheme mean " << scheme.mean;

  const double worst = std::max({(mean_error - mean_bias) / se_mean, (variance_error - variance_bias) / se_variance,
                                 std::abs(covariance) / se_covariance});
  if (report()) {
    std::printf("  %-44s var %.5f exact %.5f scheme %.5f | mean err %.2e var err %.2e (se %.1e, bias %.1e)\n",
                label.c_str(), variance, exact.variance, scheme.variance, mean_error, variance_error, se_variance,
                variance_bias);
  }
  return worst;
}

torch::Tensor standard_normal_start(int64_t n = kMomentSamples) {
  return solvers::NoiseStream(kStartSeed, 0, n, {2}, torch::kDouble).draw(0);
}

struct Schedule {
  std::string type;
  double eps;
};

// Budgets on the scheme's own error (relative variance, mean in standard deviations) with
// 100 steps on [0, 1]: weak order 1 for Euler-Maruyama, 2 for stochastic Heun.
double budget(const std::string& solver) { return solver == "euler_maruyama" ? 0.03 : 1e-3; }

// Runs [0, t_mid] then [t_mid, t_end] for each t_end, 50 steps each (from t_mid on, the noise
// stream continues as on one 100-step grid), checking the law at every one of these times.
void expect_marginals_kept(const paths::Path& path, const std::string& solver_name, const Schedule& schedule,
                           double t_mid, const std::vector<double>& t_ends) {
  const auto target = isotropic_gaussian(mu(), kSigma1);
  const paths::GaussianMixtureFields fields(path, target);
  const solvers::EpsSchedule eps = eps_schedule(schedule.type, schedule.eps, path);
  const solvers::Field drift = paths::sde_drift_field(oracle_model(fields), oracle_kinds(), path, eps);
  const solvers::Diffusion diffusion = solvers::diffusion_from_eps(eps);
  const auto solver = sde_solver(solver_name, 50, FinalStep::kNoise);

  const torch::Tensor x0 = standard_normal_start();
  solvers::NoiseStream noise = solvers::NoiseStream::for_state(kSolverSeed, 0, x0);
  const Law start{torch::zeros({2}, torch::kFloat64), 1.0};
  const std::string label = solver_name + " " + schedule.type + " eps=" + std::to_string(schedule.eps).substr(0, 4);

  const torch::Tensor x_mid = solver->integrate(drift, diffusion, x0, 0.0, t_mid, noise).x;
  const Law scheme_mid = scheme_law(solver_name, path, kSigma1, eps, start, 0.0, t_mid, 50, true);
  expect_moments(x_mid, exact_law(path, kSigma1, t_mid), scheme_mid, budget(solver_name),
                 label + " t=" + std::to_string(t_mid).substr(0, 5));

  for (double t_end : t_ends) {
    solvers::NoiseStream rest = noise;  // the same increments for every t_end
    const torch::Tensor x_end = solver->integrate(drift, diffusion, x_mid, t_mid, t_end, rest).x;
    const Law scheme_end = scheme_law(solver_name, path, kSigma1, eps, scheme_mid, t_mid, t_end, 50, true);
    expect_moments(x_end, exact_law(path, kSigma1, t_end), scheme_end, budget(solver_name),
                   label + " t=" + std::to_string(t_end).substr(0, 5));
  }
}

const std::vector<std::string> kSolvers = {"euler_maruyama", "stochastic_heun"};

TEST(GaussianSdeMoments, TwoSidedLinearPathKeepsTheMarginalsForEveryEps) {
  auto path = paths::make_path("type: linear\ngamma: brownian\na: 1\n");
  const std::vector<Schedule> schedules = {
      {"constant", 0.1}, {"constant", 0.5}, {"constant", 2.0}, {"noise_level", 1.0}, {"linear_decay", 1.0}};
  for (const std::string& solver : kSolvers) {
    for (const Schedule& schedule : schedules) expect_marginals_kept(*path, solver, schedule, 0.5, {1.0});
  }
}

TEST(GaussianSdeMoments, OneSidedCondOtPathKeepsTheMarginals) {
  // x0 ~ N(0, I) is the noise: C_t = (1 - t)^2 + t^2 sigma1^2, s = -(x - t mu) / C_t.
  auto path = paths::make_path("type: cond_ot\n");
  // To t = 0.98, and on to t = 1: with sigma1 = 0.7 the drift's Lipschitz constant
  // |C'/2 - eps| / C_t stays below about eps / C_min, C_min = sigma1^2 / (1 + sigma1^2) = 0.33,
  // so constant eps is not stiff for this target even at t = 1 (h |A| <= 0.02 with 100 steps).
  for (const std::string& solver : kSolvers) expect_marginals_kept(*path, solver, {"constant", 0.5}, 0.5, {0.98, 1.0});
}

// The library default final_step = mean adds no noise on the last step: the variance falls
// short of C_1 by about 2 eps h (h = 1/100), which the scheme law predicts and the sample shows.
TEST(GaussianSdeMoments, FinalMeanStepDropsTheLastNoiseIncrement) {
  auto path = paths::make_path("type: linear\ngamma: brownian\na: 1\n");
  const auto target = isotropic_gaussian(mu(), kSigma1);
  const paths::GaussianMixtureFields fields(*path, target);
  const solvers::EpsSchedule eps = eps_schedule("constant", 2.0, *path);
  const solvers::Field drift = paths::sde_drift_field(oracle_model(fields), oracle_kinds(), *path, eps);
  const auto solver = sde_solver("stochastic_heun", 100, FinalStep::kMean);
  const torch::Tensor x0 = standard_normal_start();
  solvers::NoiseStream noise = solvers::NoiseStream::for_state(kSolverSeed, 0, x0);
  const torch::Tensor x = solver->integrate(drift, solvers::diffusion_from_eps(eps), x0, 0.0, 1.0, noise).x;
  const Law start{torch::zeros({2}, torch::kFloat64), 1.0};
  const Law exact = exact_law(*path, kSigma1, 1.0);
  const Law scheme = scheme_law("stochastic_heun", *path, kSigma1, eps, start, 0.0, 1.0, 100, false);
  // The deficit is the last step's noise, 2 eps h (1 + h A / 2)^2 ~ 0.04 of 0.49: an O(h) bias.
  EXPECT_NEAR(exact.variance - scheme.variance, 2 * 2.0 * 0.01, 0.005);
  expect_moments(x, exact, scheme, /*budget=*/0.1, "stochastic_heun constant eps=2 final_step=mean");
  const double n = static_cast<double>(x.size(0));
  const double variance = 0.5 * (x.var(0)).sum().item<double>();
  EXPECT_GT(exact.variance - variance, 4 * exact.variance / std::sqrt(n)) << "the deficit is visible in the sample";
}

// The known stiffness of constant eps near the data, from the narrow target's side: on cond_ot
// the drift of b + eps s is A = (C'/2 - eps) / C_t with C_t = (1 - t)^2 + t^2 sigma1^2, so
// eps s grows like eps / (1 - t)^2 only while 1 - t >> sigma1, and an explicit step is stable
// only for h |A| < 2, i.e. C_t > eps h / 2. For sigma1 = 0.7 above that never fails; for
// sigma1 = 0.02, eps = 0.5 and 100 steps it fails past t ~ 0.955, and Euler-Maruyama's
// variance at t = 0.98 is hundreds of times C_t, while up to t = 0.8 it is within 7%; eps
// vanishing at t = 1 (linear_decay) tames it.
TEST(GaussianSdeMoments, ConstantEpsIsStiffNearTheDataOfANarrowTarget) {
  const double sigma1 = 0.02;
  const int64_t n = 2000;
  auto path = paths::make_path("type: cond_ot\n");
  const paths::GaussianMixtureFields fields(*path, isotropic_gaussian(mu(), sigma1));
  const auto solver = sde_solver("euler_maruyama", 100, FinalStep::kNoise);
  const torch::Tensor x0 = standard_normal_start(n);
  const Law start{torch::zeros({2}, torch::kFloat64), 1.0};
  auto relative_variance = [&](const std::string& type, double t_end, double* scheme_relative) {
    const solvers::EpsSchedule eps = eps_schedule(type, 0.5, *path);
    const solvers::Field drift = paths::sde_drift_field(oracle_model(fields), oracle_kinds(), *path, eps);
    solvers::NoiseStream noise = solvers::NoiseStream::for_state(kSolverSeed, 0, x0);
    const torch::Tensor x = solver->integrate(drift, solvers::diffusion_from_eps(eps), x0, 0.0, t_end, noise).x;
    const double exact = exact_law(*path, sigma1, t_end).variance;
    *scheme_relative = scheme_law("euler_maruyama", *path, sigma1, eps, start, 0.0, t_end, 100, true).variance / exact;
    const double sample = 0.5 * x.var(0).sum().item<double>() / exact;
    if (report()) {
      std::printf("  sigma1=%.2f %-12s t_end=%.3f: sample var / C_t = %.4g, scheme law / C_t = %.4g\n", sigma1,
                  type.c_str(), t_end, sample, *scheme_relative);
    }
    return sample;
  };
  const double se = std::sqrt(1.0 / static_cast<double>(n - 1));  // relative, two coordinates pooled
  double scheme = 0;
  const double early = relative_variance("constant", 0.8, &scheme);
  EXPECT_NEAR(early, scheme, 4 * se);
  EXPECT_NEAR(scheme, 1.0, 0.1);
  const double late = relative_variance("constant", 0.98, &scheme);
  EXPECT_GT(scheme, 100.0);
  EXPECT_GT(late, 100.0) << "constant eps = 0.5 with h = 0.0098 is unstable where C_t < eps h / 2";
  const double decayed = relative_variance("linear_decay", 0.98, &scheme);
  EXPECT_NEAR(decayed, scheme, 4 * se * scheme);
  EXPECT_NEAR(scheme, 1.0, 0.25);
}

}  // namespace
}  // namespace flowlab::sampling_test
