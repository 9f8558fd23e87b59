// Hutchinson divergence: unbiasedness, reported standard errors and probe
// laws, against closed-form densities and closed-form estimator variances.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "flowlab/data/dataset.h"
#include "flowlab/solvers/likelihood.h"
#include "likelihood/closed_form_flows.h"

namespace flowlab::solvers {
namespace {

using closed_form::GaussianInterpolant;
using closed_form::likelihood_options;
using closed_form::max_abs_diff;

double mean_of(const torch::Tensor& v) { return v.mean().item<double>(); }
// Sample variance along the last dimension (n - 1 degrees of freedom).
torch::Tensor sample_variance(const torch::Tensor& v) {
  const torch::Tensor centred = v - v.mean(-1, /*keepdim=*/true);
  return centred.pow(2).sum(-1) / static_cast<double>(v.size(-1) - 1);
}
double variance_of(const torch::Tensor& v) { return sample_variance(v).item<double>(); }

// Checks a batch of independent Hutchinson errors (estimate - truth) against
// the closed-form variance of one estimate, `variance_per_probe` / probes: the
// errors average to 0 within 4 standard errors, and both their spread and the
// mean reported std_error^2 match the closed form to 10% (about 3% is the
// sampling noise with 4000 rows and 4 probes; a population instead of a sample
// variance would be off by 25%).
void expect_spread(const torch::Tensor& error, const torch::Tensor& std_error, double variance_per_probe,
                   int64_t probes) {
  const double variance = variance_per_probe / static_cast<double>(probes);
  const double n = static_cast<double>(error.size(0));
  EXPECT_LT(std::abs(mean_of(error)), 4.0 * std::sqrt(variance / n));
  EXPECT_NEAR(variance_of(error) / variance, 1.0, 0.1);
  EXPECT_NEAR(mean_of(std_error.pow(2)) / variance, 1.0, 0.1);
}

// A with a diagonal symmetric part: eps^T A eps = tr(A) for every Rademacher eps.
torch::Tensor diagonal_symmetric_part() {
  return torch::tensor({{0.3, -0.8, 0.2}, {0.8, -0.4, 0.5}, {-0.2, -0.5, 0.2}}, torch::kDouble);
}

using closed_form::generator_3d;

TEST(HutchinsonLikelihood, RademacherIsExactWhenTheSymmetricJacobianIsDiagonal) {
  const torch::Tensor a = diagonal_symmetric_part();
  at::Generator gen = data::make_generator(11);
  const torch::Tensor x = torch::randn({10, 3}, gen, torch::kDouble);
  const torch::Tensor expected = closed_form::linear_log_prob(a, x);
  const LogLikelihood one = log_likelihood(closed_form::linear_field(a), standard_normal_log_prob, x,
                                           likelihood_options("hutchinson", 1), gen);
  EXPECT_LT(max_abs_diff(one.log_prob, expected), 2e-4);
  EXPECT_TRUE(torch::isnan(one.std_error).all().item<bool>()) << "one probe: no spread to report";

  const LogLikelihood three = log_likelihood(closed_form::linear_field(a), standard_normal_log_prob, x,
                                             likelihood_options("hutchinson", 3), gen);
  EXPECT_LT(max_abs_diff(three.log_prob, expected), 2e-4);
  EXPECT_LT(three.std_error.max().item<double>(), 1e-9);

  // Gaussian probes see the diagonal too: eps^T D eps varies.
  const LogLikelihood gaussian = log_likelihood(closed_form::linear_field(a), standard_normal_log_prob, x,
                                                likelihood_options("hutchinson", 3, "gaussian"), gen);
  EXPECT_GT(gaussian.std_error.min().item<double>(), 1e-3);
}

// With one Rademacher probe in 2-D the integral of eps^T ((1/2 + t) A) eps over
// [1, 0] takes only the values -tr(A) -+ 2 S_12 (S the symmetric part): a probe
// redrawn along the path would land in between.
TEST(HutchinsonLikelihood, ProbesStayFixedAlongThePath) {
  const torch::Tensor a = torch::tensor({{0.3, -0.8}, {0.5, -0.4}}, torch::kDouble);
  const double trace = -0.1, s12 = -0.15;
  at::Generator gen = data::make_generator(12);
  const torch::Tensor x = torch::randn({64, 2}, gen, torch::kDouble);
  const LogLikelihood result = log_likelihood(closed_form::linear_field(a), standard_normal_log_prob, x,
                                              likelihood_options("hutchinson", 1), gen);
  const torch::Tensor low = (result.divergence_integral - (-trace - 2 * std::abs(s12))).abs();
  const torch::Tensor high = (result.divergence_integral - (-trace + 2 * std::abs(s12))).abs();
  EXPECT_LT(torch::minimum(low, high).max().item<double>(), 1e-9);
  EXPECT_GT((low < 1e-9).sum().item<int64_t>(), 10);
  EXPECT_GT((high < 1e-9).sum().item<int64_t>(), 10);
}

// For b = (1/2 + t) A x one probe's integral is -eps^T S eps, whose variance is
// 2 sum_{i != j} S_ij^2 for Rademacher and 2 |S|_F^2 for Gaussian probes.
TEST(HutchinsonLikelihood, LinearFieldSpreadMatchesClosedForm) {
  const torch::Tensor a = generator_3d();
  const torch::Tensor s = 0.5 * (a + a.t());
  const double frobenius = s.pow(2).sum().item<double>();
  const double off_diagonal = frobenius - s.diagonal().pow(2).sum().item<double>();
  at::Generator gen = data::make_generator(13);
  const torch::Tensor x = torch::randn({4000, 3}, gen, torch::kDouble);
  const torch::Tensor expected = closed_form::linear_log_prob(a, x);
  for (const auto& [probe, variance] :
       std::vector<std::pair<std::string, double>>{{"rademacher", 2 * off_diagonal}, {"gaussian", 2 * frobenius}}) {
    SCOPED_TRACE(probe);
    const LogLikelihood result = log_likelihood(closed_form::linear_field(a), standard_normal_log_prob, x,
                                                likelihood_options("hutchinson", 4, probe), gen);
    expect_spread(result.log_prob - expected, result.std_error, variance, 4);
  }
}

// The theory.md 10.1 field has an isotropic Jacobian (C'/2C) I: Rademacher
// probes are exact, Gaussian ones give -log(sigma1) |eps|^2 per probe, with
// variance 2 d log(sigma1)^2.
TEST(HutchinsonLikelihood, GaussianInterpolantBothProbeLaws) {
  const GaussianInterpolant flow{torch::tensor({1.0, -2.0, 0.5}, torch::kDouble), 0.5, 2.0};
  at::Generator gen = data::make_generator(14);
  const torch::Tensor x = flow.mu + 0.8 * torch::randn({4000, 3}, gen, torch::kDouble);
  const torch::Tensor expected = flow.log_prob(x, 1.0);

  const LogLikelihood rademacher =
      log_likelihood(flow.field(), standard_normal_log_prob, x, likelihood_options("hutchinson", 2), gen);
  EXPECT_LT(max_abs_diff(rademacher.log_prob, expected), 2e-4);
  EXPECT_LT(rademacher.std_error.max().item<double>(), 1e-9);

  const LogLikelihood gaussian = log_likelihood(flow.field(), standard_normal_log_prob, x,
                                                likelihood_options("hutchinson", 4, "gaussian"), gen);
  const double log_sigma = std::log(flow.sigma1);
  expect_spread(gaussian.log_prob - expected, gaussian.std_error, 2 * 3 * log_sigma * log_sigma, 4);
}

// A nonlinear field, where every probe law has variance: many probes land
// within 4 reported standard errors of the closed form, and over independent
// replicas the estimates are unbiased with the spread the std_errors report.
TEST(HutchinsonLikelihood, NonlinearFlowIsUnbiasedWithHonestStandardErrors) {
  const auto flow = closed_form::three_component_mixture();
  const torch::Tensor points = torch::tensor({{-2.0, 0.3}, {1.0, 1.2}, {0.2, -1.0}, {3.0, -2.5}}, torch::kDouble);
  const torch::Tensor truth = flow.log_prob(points);
  for (const std::string probe : {"rademacher", "gaussian"}) {
    SCOPED_TRACE(probe);
    at::Generator gen = data::make_generator(15);
    const LogLikelihood many = log_likelihood(flow.field(), standard_normal_log_prob, points,
                                              likelihood_options("hutchinson", 64, probe), gen);
    EXPECT_GT(many.std_error.min().item<double>(), 1e-4);
    EXPECT_TRUE(((many.log_prob - truth).abs() < 4 * many.std_error + 1e-4).all().item<bool>())
        << "estimate " << many.log_prob << " truth " << truth << " std_error " << many.std_error;

    const int64_t replicas = 400, probes = 4;
    const torch::Tensor x = points.repeat_interleave(replicas, 0);
    const LogLikelihood few = log_likelihood(flow.field(), standard_normal_log_prob, x,
                                             likelihood_options("hutchinson", probes, probe), gen);
    const torch::Tensor error = (few.log_prob - truth.repeat_interleave(replicas, 0)).view({4, replicas});
    const torch::Tensor empirical = sample_variance(error);  // [4]
    const torch::Tensor reported = few.std_error.pow(2).view({4, replicas}).mean(1);
    const torch::Tensor bias_bound = 4 * (empirical / static_cast<double>(replicas)).sqrt();
    EXPECT_TRUE((error.mean(1).abs() < bias_bound).all().item<bool>()) << error.mean(1) << bias_bound;
    EXPECT_NEAR(empirical.sum().item<double>() / reported.sum().item<double>(), 1.0, 0.2);
  }
}

TEST(HutchinsonLikelihood, SeededProbesAreReproducible) {
  const auto flow = closed_form::three_component_mixture();
  const torch::Tensor x = torch::tensor({{-2.0, 0.3}, {1.0, 1.2}}, torch::kDouble);
  auto run = [&](uint64_t seed) {
    at::Generator gen = data::make_generator(seed);
    return log_likelihood(flow.field(), standard_normal_log_prob, x, likelihood_options("hutchinson", 2), gen)
        .log_prob;
  };
  EXPECT_TRUE(torch::equal(run(21), run(21)));
  EXPECT_FALSE(torch::allclose(run(21), run(22)));
}

// dopri5 evaluates the field on the rows still integrating: each row must keep
// its own probes. Fixed-step RK4 always evaluates every row, with the same
// probes drawn from the same seed, so the two must agree.
TEST(HutchinsonLikelihood, RowsFinishingEarlyKeepTheirProbes) {
  const torch::Tensor x =
      torch::tensor({{0.1, 0.0}, {1.5, -0.5}, {0.0, -0.3}, {1.0, 1.0}, {0.4, 0.2}}, torch::kDouble);
  int64_t fewest_rows = x.size(0);
  const Field recorded = [&](const torch::Tensor& y, const torch::Tensor& t) {
    fewest_rows = std::min(fewest_rows, y.size(0));
    return closed_form::radial_rotation_field()(y, t);
  };
  LikelihoodOptions adaptive = likelihood_options("hutchinson", 2, "gaussian", 1e-9);
  at::Generator gen = data::make_generator(31);
  const LogLikelihood by_dopri5 = log_likelihood(recorded, standard_normal_log_prob, x, adaptive, gen);
  EXPECT_LT(fewest_rows, x.size(0)) << "dopri5 never retired a row early; the test does not test";

  LikelihoodOptions fixed = adaptive;
  fixed.solver = "rk4";
  fixed.solver_options.steps = 400;
  gen = data::make_generator(31);
  const LogLikelihood by_rk4 =
      log_likelihood(closed_form::radial_rotation_field(), standard_normal_log_prob, x, fixed, gen);
  EXPECT_GT(by_rk4.divergence_integral.abs().max().item<double>(), 1e-2) << "the probes see no divergence";
  EXPECT_LT(max_abs_diff(by_dopri5.divergence_integral, by_rk4.divergence_integral), 1e-6);
  EXPECT_LT(max_abs_diff(by_dopri5.std_error, by_rk4.std_error), 1e-6);
}

}  // namespace
}  // namespace flowlab::solvers
