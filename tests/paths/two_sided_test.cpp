// Two-sided interpolants: endpoint conditions, derivatives against finite
// differences (gamma * gamma_dot included), x_t and its time derivative.
#include "flowlab/paths/two_sided.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "paths/make_path.h"


namespace flowlab::paths {
namespace {

class TwoSided : public ::testing::TestWithParam<std::string> {};

TEST_P(TwoSided, EndpointsMatchTheConvention) {
  auto path = make_path(GetParam());
  const Coefficients c = path->at(torch::tensor({0.0, 1.0}, torch::kFloat64));
  EXPECT_NEAR(c.alpha[0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(c.beta[0].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(c.alpha[1].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(c.beta[1].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(c.gamma[0].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(c.gamma[1].item<double>(), 0.0, 1e-12);
  EXPECT_FALSE(path->gaussian_source());
}

TEST_P(TwoSided, DerivativesMatchCentralDifferences) {
  auto path = make_path(GetParam());
  const auto t = torch::tensor({0.05, 0.2, 0.45, 0.55, 0.8, 0.95}, torch::kFloat64);
  const double h = 1e-6;
  const Coefficients c = path->at(t), up = path->at(t + h), down = path->at(t - h);
  EXPECT_TRUE(torch::allclose(c.d_alpha, (up.alpha - down.alpha) / (2 * h), 1e-5, 1e-5)) << GetParam();
  EXPECT_TRUE(torch::allclose(c.d_beta, (up.beta - down.beta) / (2 * h), 1e-5, 1e-5)) << GetParam();
  EXPECT_TRUE(torch::allclose(c.d_gamma, (up.gamma - down.gamma) / (2 * h), 1e-5, 1e-5)) << GetParam();
  EXPECT_TRUE(torch::allclose(c.gamma_d_gamma, c.gamma * c.d_gamma, 1e-10, 1e-10)) << GetParam();
}

TEST_P(TwoSided, SampleIsTheInterpolantAndItsTargets) {
  auto path = make_path(GetParam());
  torch::manual_seed(5);
  const auto x0 = torch::randn({4, 3}, torch::kFloat64), x1 = torch::randn({4, 3}, torch::kFloat64);
  const auto z = torch::randn({4, 3}, torch::kFloat64);
  const auto t = torch::tensor({0.1, 0.3, 0.6, 0.9}, torch::kFloat64);
  const Coefficients c = path->at(t);
  auto col = [](const torch::Tensor& v) { return v.unsqueeze(1); };
  const PathSample s = path->sample(x0, x1, t, z);
  const auto expected_z = path->deterministic() ? torch::zeros_like(z) : z;
  EXPECT_TRUE(torch::allclose(s.x_t, col(c.alpha) * x0 + col(c.beta) * x1 + col(c.gamma) * expected_z));
  EXPECT_TRUE(torch::allclose(s.dx_t, col(c.d_alpha) * x0 + col(c.d_beta) * x1 + col(c.d_gamma) * expected_z));
  EXPECT_TRUE(torch::equal(path->target(Prediction::kVelocity, s), s.dx_t));
  // A noise prediction needs a Gaussian source; the score's target -z / gamma needs gamma > 0.
  EXPECT_THROW(path->target(Prediction::kNoise, s), Error);
  if (path->deterministic()) {
    EXPECT_THROW(path->target(Prediction::kScore, s), Error);
  } else {
    EXPECT_TRUE(torch::allclose(path->target(Prediction::kScore, s), -z / col(c.gamma)));
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, TwoSided,
                         ::testing::Values("type: linear\ngamma: zero\n", "type: linear\ngamma: brownian\na: 2\n",
                                           "type: linear\ngamma: bsquared\n", "type: linear\ngamma: sinesquared\n",
                                           "type: trig_vp\ngamma: brownian\na: 1\n", "type: trig_vp\ngamma: bsquared\n",
                                           "type: encoder_decoder\n"));

TEST(TwoSidedPaths, BrownianGammaFollowsItsFormula) {
  GammaOptions o;
  o.a = 2.0;
  const auto t = torch::tensor({0.0, 0.25, 0.5, 1.0}, torch::kFloat64);
  const GammaValues g = gamma_at(o, t, 1e-4);
  EXPECT_TRUE(torch::allclose(g.gamma, torch::sqrt(2.0 * t * (1 - t))));
  // gamma * gamma_dot = a (1 - 2t) / 2 stays finite at the endpoints, where gamma_dot diverges.
  EXPECT_TRUE(torch::allclose(g.gamma_d_gamma, torch::tensor({1.0, 0.5, 0.0, -1.0}, torch::kFloat64)));
  EXPECT_TRUE(torch::isfinite(g.d_gamma).all().item<bool>());
}

TEST(TwoSidedPaths, EncoderDecoderIsPureNoiseAtOneHalf) {
  auto path = make_path("type: encoder_decoder\n");
  const Coefficients c = path->at(torch::tensor({0.5}, torch::kFloat64));
  EXPECT_NEAR(c.alpha[0].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(c.beta[0].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(c.gamma[0].item<double>(), 1.0, 1e-12);
}

TEST(TwoSidedPaths, OptionsAreValidated) {
  EXPECT_THROW(make_path("type: linear\ngamma: brownain\n"), ConfigError);
  EXPECT_THROW(make_path("type: linear\ngamma: brownian\na: 5\n"), ConfigError);
  EXPECT_THROW(make_path("type: linear\ngamma: zero\na: 1\n"), ConfigError);
}

}  // namespace
}  // namespace flowlab::paths
