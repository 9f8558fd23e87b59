// Every one-sided path: endpoints, derivatives against finite differences, the
// interpolant formula, and conversions checked against a Gaussian closed form.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/paths/path.h"
#include "paths/make_path.h"

namespace flowlab::paths {
namespace {


class OneSided : public ::testing::TestWithParam<std::string> {};

TEST_P(OneSided, EndpointsMatchTheConvention) {
  auto path = make_path(GetParam());
  const Coefficients c = path->at(f64({0.0, 1.0}));
  // VP reaches the source only approximately: beta(0) = exp(-(beta_min + beta_max) / 4).
  double beta0 = 0.0;
  if (GetParam() == "type: vp\n") beta0 = std::exp(-(0.1 + 20.0) / 4);
  if (GetParam() == "type: vp\nbeta_min: 0.5\nbeta_max: 8\n") beta0 = std::exp(-(0.5 + 8.0) / 4);
  EXPECT_NEAR(c.beta[0].item<double>(), beta0, 1e-12);
  EXPECT_NEAR(c.alpha[0].item<double>(), std::sqrt(1 - beta0 * beta0), 1e-12);
  EXPECT_NEAR(c.alpha[1].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(c.beta[1].item<double>(), 1.0, 1e-12);
  EXPECT_TRUE(path->gaussian_source());
}

TEST_P(OneSided, DerivativesMatchCentralDifferences) {
  auto path = make_path(GetParam());
  const auto t = f64({0.05, 0.2, 0.5, 0.8, 0.95});
  const double h = 1e-6;
  const Coefficients c = path->at(t), up = path->at(t + h), down = path->at(t - h);
  EXPECT_TRUE(torch::allclose(c.d_alpha, (up.alpha - down.alpha) / (2 * h), 1e-6, 1e-6)) << GetParam();
  EXPECT_TRUE(torch::allclose(c.d_beta, (up.beta - down.beta) / (2 * h), 1e-6, 1e-6)) << GetParam();
}

TEST_P(OneSided, SampleAndTargetsFollowTheInterpolant) {
  auto path = make_path(GetParam());
  torch::manual_seed(3);
  const auto x0 = torch::randn({6, 3}, torch::kFloat64), x1 = torch::randn({6, 3}, torch::kFloat64);
  const auto t = torch::rand({6}, torch::kFloat64) * 0.9 + 0.05;
  const Coefficients c = path->at(t);
  const PathSample s = path->sample(x0, x1, t, {});
  EXPECT_TRUE(torch::allclose(s.x_t, c.alpha.unsqueeze(1) * x0 + c.beta.unsqueeze(1) * x1));
  EXPECT_TRUE(torch::allclose(s.dx_t, c.d_alpha.unsqueeze(1) * x0 + c.d_beta.unsqueeze(1) * x1));
  // Each prediction's true conditional target converts back to the same conditional velocity.
  for (Prediction kind : {Prediction::kNoise, Prediction::kData, Prediction::kScore}) {
    const auto out = path->target(kind, s);
    EXPECT_TRUE(torch::allclose(path->to_velocity(kind, out, s.x_t, t), s.dx_t, 1e-8, 1e-8))
        << GetParam() << " " << to_string(kind);
  }
}

TEST_P(OneSided, GaussianDataClosedFormVelocityAndScore) {
  // Data N(mu, sigma^2 I): x_t ~ N(beta mu, v I), v = alpha^2 + beta^2 sigma^2, so
  // score = -(x - beta mu) / v and b = d_beta mu + (alpha d_alpha + beta d_beta sigma^2) / v (x - beta mu).
  auto path = make_path(GetParam());
  const double sigma = 0.6;
  const auto mu = f64({0.5, -1.5});
  torch::manual_seed(4);
  const auto x = torch::randn({5, 2}, torch::kFloat64);
  const auto t = f64({0.1, 0.3, 0.5, 0.7, 0.9});
  const Coefficients c = path->at(t);
  auto col = [](const torch::Tensor& v) { return v.unsqueeze(1); };
  const auto v = col(c.alpha * c.alpha + c.beta * c.beta * sigma * sigma);
  const auto centred = x - col(c.beta) * mu;
  const auto score = -centred / v;
  const auto velocity =
      col(c.d_beta) * mu + col(c.alpha * c.d_alpha + c.beta * c.d_beta * sigma * sigma) / v * centred;
  EXPECT_TRUE(torch::allclose(path->to_velocity(Prediction::kScore, score, x, t), velocity, 1e-9, 1e-9));
  EXPECT_TRUE(torch::allclose(path->to_score(Prediction::kVelocity, velocity, x, t), score, 1e-9, 1e-9));
  const auto data = path->to_data(Prediction::kScore, score, x, t);
  EXPECT_TRUE(torch::allclose(path->to_velocity(Prediction::kData, data, x, t), velocity, 1e-9, 1e-9));
}

INSTANTIATE_TEST_SUITE_P(Paths, OneSided,
                         ::testing::Values("type: cond_ot\n", "type: trig\n", "type: polynomial\nn: 3\n",
                                           "type: sbdm\n", "type: vp\n", "type: vp\nbeta_min: 0.5\nbeta_max: 8\n"));

TEST(PathRegistry, OptionsAreValidated) {
  EXPECT_THROW(make_path("type: polynomial\nn: 0\n"), ConfigError);
  EXPECT_THROW(make_path("type: vp\nbeta_min: 5\nbeta_max: 1\n"), ConfigError);
  EXPECT_THROW(make_path("type: trig\nn: 2\n"), ConfigError);
  EXPECT_THROW(make_path("type: cond_ott\n"), ConfigError);
}

}  // namespace
}  // namespace flowlab::paths
