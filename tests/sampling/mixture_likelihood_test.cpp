// Likelihood by the backward ODE (solvers::log_likelihood) on the exact velocity of
// Gaussian-mixture endpoints, against the closed-form log rho_{t_start} of
// GaussianMixtureFields::log_prob:
//  - two-sided linear path (gamma = sqrt(t (1 - t))), mixture source with its own analytic
//    log-density, non-commuting covariances;
//  - one-sided cond_ot path, x0 ~ N(0, I) (source density standard_normal_log_prob), mixture
//    target.
// Exact divergence must agree to the solver's tolerance; Hutchinson with 16 Rademacher probes
// must agree on average within 4 standard errors of the mean (from the reported per-point
// standard errors), and the reported errors must describe the actual spread. 100 points.
//
// t_start = 1 on both paths: cond_ot's velocity is regular at t = 1, and the two-sided exact
// velocity is too (C_ij(1) = C1_j > 0, gamma gamma' finite), so no clipping is needed. A
// second two-sided run starts at t_start = 1 - 1e-3 and is compared with log rho_{t_start}
// there, the form a singular (learned) field would need.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "flowlab/data/dataset.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "flowlab/solvers/likelihood.h"
#include "paths/make_path.h"
#include "sampling/sampling_support.h"

namespace flowlab::sampling_test {
namespace {

constexpr int64_t kPoints = 100;


solvers::LikelihoodOptions options(const std::string& divergence, double t_start) {
  solvers::LikelihoodOptions o;
  o.divergence = divergence;
  o.probes = divergence == "hutchinson" ? 16 : 1;
  o.solver = "dopri5";
  o.solver_options.atol = 1e-8;
  o.solver_options.rtol = 1e-8;
  o.t_start = t_start;
  o.t_end = 0.0;
  return o;
}

// Data points: the target mixture at t = 1, or rho_t's own samples alpha x0 + beta x1 + gamma z.
torch::Tensor data_points(const paths::Path& path, const data::GaussianMixture& source, double t, uint64_t seed) {
  at::Generator gen = data::make_generator(seed);
  const torch::Tensor x1 = target_mixture().sample(kPoints, gen).x.to(torch::kFloat64);
  const torch::Tensor x0 = source.sample(kPoints, gen).x.to(torch::kFloat64);
  const torch::Tensor z = torch::randn({kPoints, 2}, gen, torch::kFloat64);
  const paths::Coefficients k = path.at(torch::full({kPoints}, t, torch::kFloat64));
  return k.alpha.unsqueeze(1) * x0 + k.beta.unsqueeze(1) * x1 + k.gamma.unsqueeze(1) * z;
}

void expect_likelihoods(const paths::Path& path, const paths::GaussianMixtureFields& fields,
                        const data::GaussianMixture& source, const solvers::LogDensity& source_log_prob,
                        double t_start, double exact_tolerance, const std::string& label) {
  const torch::Tensor x = data_points(path, source, t_start, 31);
  const torch::Tensor truth = fields.log_prob(x, torch::full({kPoints}, t_start, torch::kFloat64));

  at::Generator gen = data::make_generator(32);
  const solvers::LogLikelihood exact =
      solvers::log_likelihood(fields.velocity_field(), source_log_prob, x, options("exact", t_start), gen);
  const double exact_error = (exact.log_prob - truth).abs().max().item<double>();
  EXPECT_LT(exact_error, exact_tolerance) << label;
  EXPECT_EQ(exact.std_error.abs().max().item<double>(), 0.0) << label;

  const solvers::LogLikelihood hutchinson =
      solvers::log_likelihood(fields.velocity_field(), source_log_prob, x, options("hutchinson", t_start), gen);
  const torch::Tensor error = hutchinson.log_prob - truth;
  const double n = static_cast<double>(kPoints);
  const double mean_error = error.mean().item<double>();
  const double se_of_mean = std::sqrt(hutchinson.std_error.pow(2).sum().item<double>()) / n;
  EXPECT_LT(std::abs(mean_error), 4 * se_of_mean) << label;
  // The reported errors describe the actual spread: E error^2 = E std_error^2 (both are the
  // estimator's variance / probes). Compared as a ratio of means over the points, because in 2-D
  // a Rademacher estimate is exact + 2 e1 e2 int S_12 dt, so error / std_error depends on the
  // sign pattern of the 16 probes only and has heavy tails (16 equal signs give std_error 0).
  const double spread_ratio = error.pow(2).mean().item<double>() / hutchinson.std_error.pow(2).mean().item<double>();
  EXPECT_GT(spread_ratio, 0.5) << label;
  EXPECT_LT(spread_ratio, 2.0) << label;
  EXPECT_GT(hutchinson.std_error.min().item<double>(), 0.0) << label << ": the probes must disagree somewhere";
  if (report()) {
    std::printf("  %-28s exact: max |err| %.2e (nfe %lld); hutchinson: mean err %+.4f, se of mean %.4f, "
                "mean se %.4f, mean err^2 / mean se^2 %.2f (nfe %lld)\n",
                label.c_str(), exact_error, static_cast<long long>(exact.nfe), mean_error, se_of_mean,
                hutchinson.std_error.mean().item<double>(), spread_ratio, static_cast<long long>(hutchinson.nfe));
  }
}

TEST(MixtureLikelihood, TwoSidedPathGivesTheTargetDensity) {
  auto path = paths::make_path("type: linear\ngamma: brownian\na: 1\n");
  const data::GaussianMixture source = source_mixture();
  const paths::GaussianMixtureFields fields(*path, source, target_mixture());
  const solvers::LogDensity source_log_prob = [source](const torch::Tensor& x) { return source.log_prob(x); };
  expect_likelihoods(*path, fields, source, source_log_prob, 1.0, 1e-4, "two-sided, t_start = 1");
  expect_likelihoods(*path, fields, source, source_log_prob, 0.999, 1e-4, "two-sided, t_start = 0.999");
}

TEST(MixtureLikelihood, CondOtPathGivesTheTargetDensity) {
  auto path = paths::make_path("type: cond_ot\n");
  const paths::GaussianMixtureFields fields(*path, target_mixture());
  const data::GaussianMixture standard_normal(f64({1.0}), torch::zeros({1, 2}, torch::kFloat64),
                                              torch::eye(2, torch::kFloat64).unsqueeze(0));
  expect_likelihoods(*path, fields, standard_normal, solvers::standard_normal_log_prob, 1.0, 1e-4,
                     "cond_ot, t_start = 1");
}

}  // namespace
}  // namespace flowlab::sampling_test
