// The gauge decomposition against closed forms (theory.md 10.5): for Gaussian-mixture data the
// field r = c J grad log p_t (J antisymmetric) satisfies div(p r) = 0 exactly, adding it to the
// exact velocity leaves the sampled marginals unchanged while making the field non-conservative,
// and the fitted decomposition recovers it as the remainder.
#include "flowlab/diagnostics/gauge.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/data/gaussian_mixture.h"
#include "flowlab/diagnostics/asymmetry.h"
#include "flowlab/ot/energy_distance.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "flowlab/solvers/solver.h"
#include "paths/make_path.h"

namespace flowlab::diagnostics {
namespace {

struct GaugeCase {
  data::GaussianMixture target{torch::tensor({0.5, 0.5}, torch::kFloat64),
                               torch::tensor({{1.5, 0.0}, {-1.5, 0.5}}, torch::kFloat64),
                               torch::stack({torch::diag(torch::tensor({0.3, 0.1}, torch::kFloat64)),
                                             torch::diag(torch::tensor({0.1, 0.4}, torch::kFloat64))})};
  std::unique_ptr<paths::Path> path = paths::make_path("type: cond_ot\n");
  paths::GaussianMixtureFields fields{*path, target};
  torch::Tensor rotation = torch::tensor({{0.0, 1.0}, {-1.0, 0.0}}, torch::kFloat64);
  double strength = 0.8;

  solvers::Field velocity() const { return fields.velocity_field(); }
  solvers::Field score() const { return fields.score_field(); }
  // c J s: divergence-free against p_t.
  solvers::Field gauge() const {
    const auto s = fields.score_field();
    const auto j = rotation * strength;
    return [s, j](const torch::Tensor& x, const torch::Tensor& t) { return torch::matmul(s(x, t), j.t().to(x.dtype())); };
  }
  solvers::Field velocity_plus_gauge() const {
    const auto b = velocity(), g = gauge();
    return [b, g](const torch::Tensor& x, const torch::Tensor& t) { return b(x, t) + g(x, t); };
  }
  // x_t of the path between N(0, I) and the mixture.
  torch::Tensor sample(const torch::Tensor& t, at::Generator& gen) const {
    const auto x1 = target.sample(t.size(0), gen).x.to(torch::kFloat64);
    const auto x0 = torch::randn({t.size(0), 2}, gen, torch::kFloat64);
    return path->sample(x0, x1, t.to(torch::kFloat64), torch::Tensor()).x_t;
  }
};

TEST(Gauge, TheGaugeFieldSatisfiesTheGaugeCondition) {
  const GaugeCase c;
  auto gen = data::make_generator(1);
  for (double t : {0.3, 0.7}) {
    const auto x = c.sample(torch::full({64}, t, torch::kFloat64), gen);
    const solvers::Field zero = [](const torch::Tensor& y, const torch::Tensor&) { return torch::zeros_like(y); };
    // With phi = 0 the remainder is the gauge field itself: div(p r) / p = div r + r . s = 0.
    const GaugeReport r = gauge_report({c.gauge(), zero, c.score(), {}}, x, t, 0, gen);
    EXPECT_LT(r.gauge_residual_rms, 1e-10) << "t = " << t;
    EXPECT_TRUE(std::isnan(r.fit_error_share) && std::isnan(r.refined_share));
    // The velocity alone is no gauge field: its own residual is of order one.
    EXPECT_GT(gauge_report({c.velocity(), zero, c.score(), {}}, x, t, 0, gen).gauge_residual_rms, 0.1) << "t = " << t;
    EXPECT_NEAR(r.remainder_share, 1.0, 1e-12);
    // The velocity itself is a gradient here and the sum is not.
    const auto flat = [&](const solvers::Field& f) {
      return [f, t](const torch::Tensor& y) { return f(y, torch::full({y.size(0)}, t, y.options())); };
    };
    EXPECT_LT(exact_asymmetry(flat(c.velocity()), x).mean, 1e-10);
    EXPECT_GT(exact_asymmetry(flat(c.velocity_plus_gauge()), x).mean, 0.05);
  }
}

TEST(Gauge, AddingTheGaugeFieldKeepsTheMarginals) {
  const GaugeCase c;
  auto gen = data::make_generator(2);
  const auto x0 = torch::randn({2000, 2}, gen, torch::kFloat64);
  solvers::SolverOptions options;
  options.steps = 100;
  solvers::register_builtin_solvers();
  const auto rk4 = solvers::make_solver("rk4", options);
  const auto plain = rk4->integrate(c.velocity(), x0, 0.0, 1.0 - 1e-3).x;
  const auto gauged = rk4->integrate(c.velocity_plus_gauge(), x0, 0.0, 1.0 - 1e-3).x;
  const auto data = c.target.sample(2000, gen).x.to(torch::kFloat64);
  // Different paths for each point, the same law at the end.
  EXPECT_GT((plain - gauged).norm(2, 1).mean().item<double>(), 0.05);
  const double floor = ot::energy_distance(c.target.sample(2000, gen).x.to(torch::kFloat64), data);

  EXPECT_LT(ot::energy_distance(plain, data), 2.5 * floor + 0.02);
  EXPECT_LT(ot::energy_distance(gauged, data), 2.5 * floor + 0.02);
  EXPECT_LT(ot::energy_distance(gauged, plain), 0.05);
  // The control: the same rotation applied to x instead of the score is no gauge field, and moves the law.
  const auto b = c.velocity();
  const auto j = c.rotation * c.strength;
  const solvers::Field rotated = [&](const torch::Tensor& x, const torch::Tensor& t) {
    return b(x, t) + torch::matmul(x, j.t());
  };
  const double moved = ot::energy_distance(rk4->integrate(rotated, x0, 0.0, 1.0 - 1e-3).x, data);
  EXPECT_GT(moved, 4 * ot::energy_distance(gauged, data)) << moved;
}

// grad phi of an energy network fitted to `field` on the path of `c` (float32 network, float64 points).
solvers::Field fitted_gradient(const GaugeCase& c, const solvers::Field& field, at::Generator& gen,
                               int64_t steps = 1500) {
  GaugeFitOptions options;
  options.hidden = {64, 64, 64};
  options.steps = steps;
  options.batch = 256;
  const auto potential = fit_conservative_part(
      field, [&](const torch::Tensor& t, at::Generator& g) { return c.sample(t, g).to(torch::kFloat32); }, {2},
      options, gen);
  return [potential](const torch::Tensor& x, const torch::Tensor& t) {
    return potential->forward(x.to(torch::kFloat32), t.to(torch::kFloat32)).to(x.dtype());
  };
}

solvers::Field difference(const solvers::Field& f, const solvers::Field& g) {
  return [f, g](const torch::Tensor& x, const torch::Tensor& t) { return f(x, t) - g(x, t); };
}

TEST(Gauge, FittedDecompositionRecoversTheRemainder) {
  const GaugeCase c;
  auto gen = data::make_generator(3);
  torch::manual_seed(3);
  const solvers::Field gradient = fitted_gradient(c, c.velocity_plus_gauge(), gen);
  // The fit's error: grad psi fitted to the remainder.
  const solvers::Field reference = fitted_gradient(c, difference(c.velocity_plus_gauge(), gradient), gen);
  for (double t : {0.3, 0.6}) {
    const auto tt = torch::full({400}, t, torch::kFloat64);
    const auto x = c.sample(tt, gen);
    const auto f = c.velocity_plus_gauge()(x, tt), g = c.gauge()(x, tt);
    const auto remainder = f - gradient(x, tt).detach();
    const double error = (remainder - g).pow(2).sum().item<double>() / g.pow(2).sum().item<double>();
    EXPECT_LT(error, 0.1) << "t = " << t;
    const GaugeReport r = gauge_report({c.velocity_plus_gauge(), gradient, c.score(), reference}, x, t, 0, gen);
    const double expected_share = g.pow(2).sum().item<double>() / f.pow(2).sum().item<double>();
    EXPECT_NEAR(r.remainder_share, expected_share, 0.3 * expected_share) << "t = " << t;
    EXPECT_LT(r.gauge_residual, 0.5) << "t = " << t;
    // The true remainder is orthogonal to gradients: grad psi finds little in it, and the refined share
    // stays at the truth.
    EXPECT_LT(r.fit_error_share, 0.1 * r.remainder_share) << "t = " << t;
    EXPECT_NEAR(r.refined_share, expected_share, 0.3 * expected_share) << "t = " << t;
  }
}

TEST(Gauge, TheSecondFitTakesOutTheFirstFitsError) {
  // The exact velocity of Gaussian-mixture data is a gradient: its true remainder is 0, so what a
  // short first fit (100 steps) leaves is its own error, itself a gradient, which the second fit of
  // the remainder takes out.
  const GaugeCase c;
  auto gen = data::make_generator(4);
  torch::manual_seed(4);
  const solvers::Field gradient = fitted_gradient(c, c.velocity(), gen, 100);
  const solvers::Field reference = fitted_gradient(c, difference(c.velocity(), gradient), gen);
  for (double t : {0.3, 0.6}) {
    const auto x = c.sample(torch::full({400}, t, torch::kFloat64), gen);
    const GaugeReport r = gauge_report({c.velocity(), gradient, c.score(), reference}, x, t, 0, gen);
    EXPECT_GT(r.remainder_share, 0.01) << "t = " << t;  // the first fit is poor
    EXPECT_GT(r.fit_error_share, 0.5 * r.remainder_share) << "t = " << t;
    EXPECT_LT(r.refined_share, 0.2 * r.remainder_share) << "t = " << t;
  }
}

TEST(Gauge, HutchinsonResidualIsUnbiased) {
  // In d = 80, beyond exact divergences: f(x) = A x on N(0, I) (score -x), with phi = 0, has the
  // residual div f + f . s = tr A - x^T A x at every point, known exactly.
  const int64_t d = 80;
  auto gen = data::make_generator(5);
  const auto a = torch::randn({d, d}, gen, torch::kFloat64) / std::sqrt(static_cast<double>(d)) +
                 0.5 * torch::eye(d, torch::kFloat64);
  const solvers::Field linear = [a](const torch::Tensor& x, const torch::Tensor&) { return torch::matmul(x, a.t()); };
  const solvers::Field zero = [](const torch::Tensor& x, const torch::Tensor&) { return torch::zeros_like(x); };
  const solvers::Field score = [](const torch::Tensor& x, const torch::Tensor&) { return -x; };
  const auto x = torch::randn({50, d}, gen, torch::kFloat64);
  const auto residual = a.trace() - (torch::matmul(x, a.t()) * x).sum(1);
  const double exact_ms = residual.pow(2).mean().item<double>();
  const GaugeReport exact = gauge_report({linear, zero, score, {}}, x, 0.5, 0, gen);
  EXPECT_NEAR(exact.gauge_residual_rms * exact.gauge_residual_rms, exact_ms, 1e-9 * exact_ms);
  const int repeats = 40;
  std::vector<double> estimates;
  for (int i = 0; i < repeats; ++i) {
    const GaugeReport r = gauge_report({linear, zero, score, {}}, x, 0.5, 4, gen);
    EXPECT_EQ(r.probes, 4);
    estimates.push_back(r.gauge_residual_rms * r.gauge_residual_rms);
  }
  const auto e = torch::tensor(estimates, torch::kFloat64);
  const double se = e.std().item<double>() / std::sqrt(static_cast<double>(repeats));
  EXPECT_GT(se, 1e-6 * exact_ms);  // the estimate is random
  EXPECT_NEAR(e.mean().item<double>(), exact_ms, 3 * se) << "s.e. " << se;
  // Squaring one 4-probe estimate instead would add its variance (about 2 d / 4 here): many s.e.
  double squared = 0.0;
  for (int i = 0; i < repeats; ++i) {
    const auto z = (2 * torch::randint(2, {4, 50, d}, gen, torch::kLong) - 1).to(torch::kFloat64);
    const auto one = (torch::matmul(z, a) * z).sum(2).mean(0) - (torch::matmul(x, a.t()) * x).sum(1);
    squared += one.pow(2).mean().item<double>() / repeats;
  }
  EXPECT_GT(squared - exact_ms, 3 * se);
  EXPECT_THROW(gauge_report({linear, zero, score, {}}, x, 0.5, 3, gen), c10::Error);
}

}  // namespace
}  // namespace flowlab::diagnostics
