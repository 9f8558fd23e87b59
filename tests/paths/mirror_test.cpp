// The mirror interpolant: x_t = x1 + gamma(t) z when the trainer draws x0 = x1.
#include "flowlab/paths/mirror.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "paths/make_path.h"
#include "support/config_error.h"

namespace flowlab::paths {
namespace {


TEST(Mirror, CoefficientsAndFlags) {
  auto path = make_path("type: mirror\ngamma: brownian\na: 2\n");
  const auto t = f64({0.0, 0.25, 0.5, 1.0});
  const Coefficients c = path->at(t);
  EXPECT_TRUE(torch::allclose(c.alpha, 1 - t));
  EXPECT_TRUE(torch::allclose(c.beta, t));
  EXPECT_TRUE(torch::allclose(c.gamma, torch::sqrt(2 * t * (1 - t))));
  EXPECT_TRUE(torch::allclose(c.gamma_d_gamma, 1 - 2 * t));
  EXPECT_TRUE(path->mirror());
  EXPECT_FALSE(path->gaussian_source());
  EXPECT_FALSE(path->deterministic());
  EXPECT_FALSE(make_path("type: linear\n")->mirror());
}

class MirrorGamma : public ::testing::TestWithParam<std::string> {};

TEST_P(MirrorGamma, SampleWithEqualEndpointsIsTheDataPlusNoise) {
  auto path = make_path(GetParam());
  torch::manual_seed(7);
  const auto x1 = torch::randn({5, 3}, torch::kFloat64), z = torch::randn({5, 3}, torch::kFloat64);
  const auto t = f64({0.05, 0.3, 0.5, 0.7, 0.95});
  const Coefficients c = path->at(t);
  const PathSample s = path->sample(x1, x1, t, z);
  EXPECT_TRUE(torch::allclose(s.x_t, x1 + c.gamma.unsqueeze(1) * z, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(s.dx_t, c.d_gamma.unsqueeze(1) * z, 1e-12, 1e-12));
  EXPECT_TRUE(torch::equal(path->target(Prediction::kVelocity, s), s.dx_t));
}

TEST_P(MirrorGamma, EndpointsAndDerivatives) {
  auto path = make_path(GetParam());
  const Coefficients ends = path->at(f64({0.0, 1.0}));
  EXPECT_NEAR(ends.gamma[0].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(ends.gamma[1].item<double>(), 0.0, 1e-12);
  const auto t = f64({0.05, 0.2, 0.45, 0.55, 0.8, 0.95});
  const double h = 1e-6;
  const Coefficients c = path->at(t), up = path->at(t + h), down = path->at(t - h);
  EXPECT_TRUE(torch::allclose(c.d_gamma, (up.gamma - down.gamma) / (2 * h), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(c.gamma_d_gamma, c.gamma * c.d_gamma, 1e-10, 1e-10));
}

INSTANTIATE_TEST_SUITE_P(Paths, MirrorGamma,
                         ::testing::Values("type: mirror\n", "type: mirror\ngamma: brownian\na: 3\n",
                                           "type: mirror\ngamma: bsquared\n", "type: mirror\ngamma: sinesquared\n"));

TEST(Mirror, ZeroGammaIsRefused) {
  testing::expect_config_error([] { make_path("type: mirror\ngamma: zero\n"); }, {"gamma"});
  EXPECT_THROW(MirrorPath(TwoSidedOptions{GammaOptions{"zero", 1.0}}), Error);
  EXPECT_THROW(make_path("type: mirror\nn: 2\n"), ConfigError);
}

}  // namespace
}  // namespace flowlab::paths
