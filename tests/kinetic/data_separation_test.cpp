// The data separation function: the Monte-Carlo estimator against closed forms (Gaussian
// data, two points, one point), its invariance to the data's scale, the honesty of its
// standard error, the isotonic smoothing and the ratio h = 1 - gamma the energy uses.
#include "flowlab/paths/data_separation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/data/dataset.h"
#include "kinetic/kinetic_support.h"

namespace flowlab::paths {
namespace {

SeparationOptions small_grid(int64_t knots, double s_min, double s_max, int64_t noise_samples) {
  SeparationOptions o;
  o.knots = knots;
  o.s_min = s_min;
  o.s_max = s_max;
  o.noise_samples = noise_samples;
  return o;
}

TEST(IsotonicRegression, PoolsAdjacentViolatorsWithWeights) {
  const auto plain = isotonic_regression({1, 3, 2, 4}, {1, 1, 1, 1});
  ASSERT_EQ(plain.size(), 4u);
  EXPECT_DOUBLE_EQ(plain[1], 2.5);
  EXPECT_DOUBLE_EQ(plain[2], 2.5);
  const auto weighted = isotonic_regression({1, 3, 2, 4}, {1, 3, 1, 1});
  EXPECT_DOUBLE_EQ(weighted[1], 2.75);  // (3*3 + 2) / 4
  const auto chain = isotonic_regression({5, 4, 3, 2, 1}, {1, 1, 1, 1, 1});
  for (double v : chain) EXPECT_DOUBLE_EQ(v, 3.0);
  const auto sorted = isotonic_regression({0.1, 0.2, 0.3}, {1, 1, 1});
  EXPECT_DOUBLE_EQ(sorted[2], 0.3);
}

// Gaussian data: lambda'(s') = s'^2 / (1 + s'^2) for any scale (here sigma = 3, so mu2 ~ 9).
TEST(DataSeparation, RecoversTheGaussianClosedFormAtAnyScale) {
  for (int d : {1, 3}) {
    auto gen = data::make_generator(11 + d);
    const auto x = 3.0 * torch::randn({8000, d}, gen, torch::kFloat64);
    const auto sep = DataSeparation::estimate(x, small_grid(9, 0.05, 20.0, 2048), gen);
    EXPECT_NEAR(sep.second_moment(), 9.0, 0.3);
    EXPECT_NEAR(sep.lambda_at_zero(), 0.0, 1e-3);
    double worst = 0.0;
    for (const auto& k : sep.knots()) {
      const double exact = k.s * k.s / (1 + k.s * k.s);
      // The estimate is of the 8000-point empirical law, whose lambda differs from the
      // Gaussian's by O(1/sqrt(n)); the Monte-Carlo error is the reported standard error.
      EXPECT_NEAR(k.lambda, exact, 4 * k.lambda_se + 5e-3) << "d = " << d << ", s' = " << k.s;
      EXPECT_GT(k.lambda_se, 0.0);
      worst = std::max(worst, std::abs(k.lambda - exact));
    }
    EXPECT_LT(worst, 0.01);
    // h = (1 + s'^2)(1 - lambda') is 1 for Gaussian data.
    for (double theta : {0.3, 0.7, 1.1}) {
      EXPECT_NEAR(sep.error_ratio(torch::tensor(theta, torch::kFloat64)).item<double>(), 1.0, 0.05);
    }
  }
}

// Two points +-v: lambda is known through a 1-D integral, in every dimension.
TEST(DataSeparation, RecoversTheTwoPointClosedForm) {
  for (int d : {1, 2, 8}) {
    auto gen = data::make_generator(3 + d);
    const auto sep = DataSeparation::estimate(two_point_data(d), small_grid(15, 0.05, 5.0, 8192), gen);
    EXPECT_NEAR(sep.second_moment(), 1.0, 1e-12);
    int outside = 0;
    for (const auto& k : sep.knots()) {
      const double exact = 1.0 - two_point_posterior_error(d, k.s);
      // Events rarer than about 1/k (a posterior that flips) go unseen: allow 3/k beyond 5 s.e.
      EXPECT_NEAR(k.lambda, exact, 5 * k.lambda_se + 3.0 / 8192) << "d = " << d << ", s' = " << k.s;
      outside += std::abs(k.lambda - exact) > 2 * k.lambda_se + 3.0 / 8192;
      EXPECT_NEAR(k.smoothed, exact, 0.02);
    }
    EXPECT_LE(outside, 4) << "more knots than expected beyond 2 standard errors, d = " << d;
  }
}

// One point (repeated): the posterior always knows it, lambda' = 1 and h = 0.
TEST(DataSeparation, OnePointIsSeparatedEverywhere) {
  auto gen = data::make_generator(5);
  const auto x = torch::full({4, 3}, 2.0, torch::kFloat64);
  const auto sep = DataSeparation::estimate(x, small_grid(8, 0.01, 100.0, 256), gen);
  EXPECT_NEAR(sep.lambda_at_zero(), 1.0, 1e-12);
  for (const auto& k : sep.knots()) {
    EXPECT_NEAR(k.lambda, 1.0, 1e-12);
    EXPECT_NEAR(k.smoothed, 1.0, 1e-12);
  }
  const auto theta = torch::linspace(0, M_PI / 2, 50, torch::kFloat64);
  EXPECT_LT(sep.error_ratio(theta).abs().max().item<double>(), 1e-9);
}

// The reported standard error matches the spread over independent estimates.
TEST(DataSeparation, StandardErrorMatchesTheSpread) {
  auto data_gen = data::make_generator(1);
  const auto x = torch::randn({300, 2}, data_gen, torch::kFloat64) + torch::tensor({2.0, 0.0}, torch::kFloat64);
  const auto options = small_grid(3, 0.3, 3.0, 400);
  std::vector<std::vector<double>> values(3);
  std::vector<double> mean_se(3, 0.0);
  const int repeats = 40;
  for (int r = 0; r < repeats; ++r) {
    auto gen = data::make_generator(100 + r);
    const auto sep = DataSeparation::estimate(x, options, gen);
    for (int k = 0; k < 3; ++k) {
      values[k].push_back(sep.knots()[k].lambda);
      mean_se[k] += sep.knots()[k].lambda_se / repeats;
    }
  }
  for (int k = 0; k < 3; ++k) {
    const auto v = torch::tensor(values[k], torch::kFloat64);
    const double spread = v.std().item<double>();
    EXPECT_GT(spread / mean_se[k], 0.6) << "knot " << k;
    EXPECT_LT(spread / mean_se[k], 1.5) << "knot " << k;
  }
}

TEST(DataSeparation, ClosedFormConstructionAndLambdaInterpolation) {
  SeparationOptions grid = small_grid(60, 1e-3, 1e3, 1);
  const auto gaussian = DataSeparation::from_posterior_error([](double s) { return 1.0 / (1.0 + s * s); }, 0.0,
                                                             1.0, grid);
  const auto s = torch::tensor({0.0, 0.02, 0.5, 1.0, 3.0, 40.0, 1e5}, torch::kFloat64);
  EXPECT_LT((gaussian.lambda(s) - s * s / (1 + s * s)).abs().max().item<double>(), 2e-4);
  const auto theta = torch::linspace(0, M_PI / 2, 201, torch::kFloat64);
  EXPECT_LT((gaussian.error_ratio(theta) - 1.0).abs().max().item<double>(), 2e-3);
  // The gradient in theta is finite everywhere, also beyond the last knot (the minimiser needs it).
  const auto th = theta.clone().requires_grad_(true);
  gaussian.error_ratio(th).sum().backward();
  EXPECT_TRUE(torch::isfinite(th.grad()).all().item<bool>());
}

TEST(DataSeparation, RejectsInconsistentKnots) {
  EXPECT_THROW(DataSeparation({{1.0, 0.5, 0, 0.5}, {2.0, 0.4, 0, 0.4}}, 0.0, 0.0, 1.0), Error);
  EXPECT_THROW(DataSeparation({{1.0, 0.5, 0, 0.5}}, 0.0, 0.0, 0.0), Error);
  auto gen = data::make_generator(0);
  EXPECT_THROW(DataSeparation::estimate(torch::zeros({5, 2}), SeparationOptions{}, gen), Error);
}

}  // namespace
}  // namespace flowlab::paths
