// Jacobian asymmetry against closed forms: gradients of quadratics (0), rotations (1), linear
// fields (the formula), Gaussian-mixture scores (a Hessian: 0 up to rounding), the two-sided
// Gaussian interpolant with non-commuting covariances (J = C' C^-1 / 2, not symmetric), and the
// randomized estimator's unbiasedness.
#include "flowlab/diagnostics/asymmetry.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/data/dataset.h"
#include "flowlab/data/gaussian_mixture.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "paths/make_path.h"

namespace flowlab::diagnostics {
namespace {

PointField linear_field(const torch::Tensor& j) {
  return [j](const torch::Tensor& x) { return torch::matmul(x, j.t().to(x.options())); };
}

double closed_form_asymmetry(const torch::Tensor& j) {
  return (0.5 * (j - j.t())).norm().item<double>() / j.norm().item<double>();
}

TEST(Asymmetry, GradientOfAQuadraticIsZeroAndARotationIsOne) {
  auto gen = data::make_generator(1);
  const auto x = torch::randn({16, 5}, gen, torch::kFloat64);
  const auto a = torch::randn({5, 5}, gen, torch::kFloat64);
  const auto symmetric = a + a.t();
  EXPECT_LT(exact_asymmetry(linear_field(symmetric), x).per_point.abs().max().item<double>(), 1e-15);
  const auto antisymmetric = a - a.t();
  const auto rotation = exact_asymmetry(linear_field(antisymmetric), x);
  EXPECT_NEAR(rotation.mean, 1.0, 1e-14);
  EXPECT_NEAR(rotation.pooled, 1.0, 1e-14);
  // A nonlinear gradient field: f = grad (sum log cosh(W x)) has the symmetric Jacobian W^T diag W.
  const auto w = torch::randn({7, 5}, gen, torch::kFloat64);
  const PointField gradient = [w](const torch::Tensor& y) { return torch::matmul(torch::tanh(torch::matmul(y, w.t())), w); };
  EXPECT_LT(exact_asymmetry(gradient, x).per_point.abs().max().item<double>(), 1e-14);
}

TEST(Asymmetry, LinearFieldMatchesTheClosedForm) {
  auto gen = data::make_generator(2);
  const auto j = torch::randn({4, 4}, gen, torch::kFloat64);
  const auto x = torch::randn({8, 4}, gen, torch::kFloat64);
  const auto e = exact_asymmetry(linear_field(j), x);
  EXPECT_NEAR(e.mean, closed_form_asymmetry(j), 1e-14);
  EXPECT_NEAR(e.antisymmetric_sq, (0.5 * (j - j.t())).pow(2).sum().item<double>(), 1e-12);
  EXPECT_NEAR(e.jacobian_sq, j.pow(2).sum().item<double>(), 1e-12);
  EXPECT_LT(e.se, 1e-14);  // the same J at every point
}

// Exact fields of Gaussian mixtures: the score is a gradient (A ~ 0 in float64), and so is the
// one-sided velocity b = (beta'/beta) x + ... s; the two-sided velocity between non-commuting
// Gaussians is not: J = C_t' C_t^-1 / 2 with C_t = (1 - t)^2 C0 + t^2 C1.
TEST(Asymmetry, GaussianFieldsMatchTheirClosedForms) {
  const auto mixture = data::GaussianMixture(torch::tensor({0.3, 0.7}, torch::kFloat64),
                                             torch::tensor({{1.0, -1.0, 0.5}, {-1.0, 0.5, 0.0}}, torch::kFloat64),
                                             torch::stack({torch::eye(3, torch::kFloat64) * 0.5,
                                                           torch::diag(torch::tensor({0.2, 1.0, 2.0}, torch::kFloat64))}));
  auto gen = data::make_generator(3);
  const auto x = torch::randn({32, 3}, gen, torch::kFloat64);
  const auto t = torch::full({32}, 0.6, torch::kFloat64);
  const auto one_sided = paths::make_path("type: cond_ot\n");
  const paths::GaussianMixtureFields fields(*one_sided, mixture);
  const PointField score = [&](const torch::Tensor& y) { return fields.score(y, t); };
  const PointField velocity = [&](const torch::Tensor& y) { return fields.velocity(y, t); };
  EXPECT_LT(exact_asymmetry(score, x).per_point.max().item<double>(), 1e-10);
  EXPECT_LT(exact_asymmetry(velocity, x).per_point.max().item<double>(), 1e-10);

  const auto c0 = torch::tensor({{2.0, 0.8, 0.0}, {0.8, 1.0, 0.3}, {0.0, 0.3, 0.5}}, torch::kFloat64);
  const auto c1 = torch::diag(torch::tensor({0.3, 1.5, 1.0}, torch::kFloat64));
  const auto zero = torch::zeros({1, 3}, torch::kFloat64), one = torch::ones({1}, torch::kFloat64);
  const data::GaussianMixture source(one, zero, c0.unsqueeze(0)), target(one, zero, c1.unsqueeze(0));
  const auto two_sided = paths::make_path("type: linear\ngamma: zero\n");
  const paths::GaussianMixtureFields between(*two_sided, source, target);
  for (double time : {0.2, 0.5, 0.8}) {
    const auto tt = torch::full({32}, time, torch::kFloat64);
    const PointField b = [&](const torch::Tensor& y) { return between.velocity(y, tt); };
    const auto c_t = (1 - time) * (1 - time) * c0 + time * time * c1;
    const auto dc_t = -2 * (1 - time) * c0 + 2 * time * c1;
    const auto j = 0.5 * torch::matmul(dc_t, torch::inverse(c_t));
    const auto e = exact_asymmetry(b, x);
    EXPECT_NEAR(e.mean, closed_form_asymmetry(j), 1e-10) << "t = " << time;
    EXPECT_GT(e.mean, 0.01) << "t = " << time;
  }
}

// The randomized estimator: its squared norms are unbiased (mean over repeats within 3 standard
// errors of the exact values) and its standard errors are honest.
TEST(Asymmetry, RandomizedEstimatorIsUnbiased) {
  auto gen = data::make_generator(4);
  const auto j = torch::randn({6, 6}, gen, torch::kFloat64) + 0.5 * torch::eye(6, torch::kFloat64);
  const auto w = torch::randn({6, 6}, gen, torch::kFloat64) * 0.5;
  // A nonlinear, non-conservative field: J x + tanh(W x).
  const PointField field = [&](const torch::Tensor& y) {
    return torch::matmul(y, j.t()) + torch::tanh(torch::matmul(y, w.t()));
  };
  const auto x = torch::randn({40, 6}, gen, torch::kFloat64);
  const auto exact = exact_asymmetry(field, x);
  const int repeats = 30;
  std::vector<double> anti, full, pooled;
  double anti_se = 0, full_se = 0;
  for (int r = 0; r < repeats; ++r) {
    auto probe_gen = data::make_generator(100 + r);
    const auto e = randomized_asymmetry(field, x, 2, probe_gen);
    anti.push_back(e.antisymmetric_sq), full.push_back(e.jacobian_sq), pooled.push_back(e.pooled);
    anti_se += e.antisymmetric_sq_se / repeats, full_se += e.jacobian_sq_se / repeats;
  }
  const auto mean = [](const std::vector<double>& v) { return torch::tensor(v).mean().item<double>(); };
  const auto spread = [](const std::vector<double>& v) { return torch::tensor(v).std().item<double>(); };
  // Over repeats the probe noise averages out; the point set is fixed, so compare with the exact
  // per-point means (the reported s.e. also contains the spread over points, an upper bound).
  EXPECT_NEAR(mean(anti), exact.antisymmetric_sq, 3 * spread(anti) / std::sqrt(repeats));
  EXPECT_NEAR(mean(full), exact.jacobian_sq, 3 * spread(full) / std::sqrt(repeats));
  EXPECT_LT(spread(anti), 1.5 * anti_se);
  EXPECT_LT(spread(full), 1.5 * full_se);
  EXPECT_NEAR(mean(pooled), exact.pooled, 0.02);
}

}  // namespace
}  // namespace flowlab::diagnostics
