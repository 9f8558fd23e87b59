// The improved-DDPM cosine path against Nichol & Dhariwal's alpha_bar written out
// directly, its endpoints, derivatives and the singularity of d alpha/dt at t = 1.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/paths/one_sided.h"
#include "paths/gaussian_conversions.h"
#include "paths/make_path.h"

namespace flowlab::paths {
namespace {


// alpha_bar(s) = f(s) / f(0), f(s) = cos^2(((s + offset) / (1 + offset)) pi / 2), s = 1 - t.
torch::Tensor alpha_bar(const torch::Tensor& t, double offset) {
  auto f = [offset](const torch::Tensor& s) {
    return torch::cos((s + offset) / (1 + offset) * M_PI / 2).pow(2);
  };
  return f(1 - t) / f(torch::zeros_like(t));
}

TEST(VpCosine, CoefficientsFollowTheImprovedDdpmSchedule) {
  for (double offset : {0.008, 0.1}) {
    auto path = make_path("type: vp_cosine\noffset: " + std::to_string(offset) + "\n");
    const auto t = torch::linspace(0, 1, 41, torch::kFloat64);
    const Coefficients c = path->at(t);
    const auto abar = alpha_bar(t, offset);
    EXPECT_TRUE(torch::allclose(c.beta, torch::sqrt(abar), 0, 1e-12)) << offset;
    EXPECT_TRUE(torch::allclose(c.alpha, torch::sqrt((1 - abar).clamp_min(0)), 0, 1e-7)) << offset;
    // Away from t = 1 the direct formula has no cancellation and the match is tight.
    const auto inner = torch::linspace(0, 0.9, 19, torch::kFloat64);
    EXPECT_TRUE(torch::allclose(path->at(inner).alpha, torch::sqrt(1 - alpha_bar(inner, offset)), 0, 1e-12));
    EXPECT_TRUE(torch::allclose(c.alpha * c.alpha + c.beta * c.beta, torch::ones_like(t), 0, 1e-14));
    EXPECT_EQ(c.gamma.abs().max().item<double>(), 0.0);
  }
}

TEST(VpCosine, SampleAndVelocityTargetFollowTheSchedule) {
  auto path = make_path("type: vp_cosine\n");
  torch::manual_seed(6);
  const auto x0 = torch::randn({5, 3}, torch::kFloat64), x1 = torch::randn({5, 3}, torch::kFloat64);
  const auto t = f64({0.02, 0.3, 0.5, 0.7, 0.98});
  // x_t = sqrt(1 - abar) x0 + sqrt(abar) x1; its time derivative by central differences.
  auto x_at = [&](const torch::Tensor& s) {
    const auto abar = alpha_bar(s, 0.008).unsqueeze(1);
    return torch::sqrt(1 - abar) * x0 + torch::sqrt(abar) * x1;
  };
  const double h = 1e-6;
  const PathSample s = path->sample(x0, x1, t, {});
  EXPECT_TRUE(torch::allclose(s.x_t, x_at(t), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(path->target(Prediction::kVelocity, s), (x_at(t + h) - x_at(t - h)) / (2 * h), 1e-6, 1e-6));
}

TEST(VpCosine, EndpointsMatchTheConvention) {
  auto path = make_path("type: vp_cosine\n");
  const Coefficients c = path->at(f64({0.0, 1.0}));
  EXPECT_NEAR(c.alpha[0].item<double>(), 1.0, 1e-15);
  EXPECT_NEAR(c.beta[0].item<double>(), 0.0, 1e-15);  // cos(pi / 2) in floating point
  EXPECT_EQ(c.alpha[1].item<double>(), 0.0);
  EXPECT_EQ(c.beta[1].item<double>(), 1.0);
  EXPECT_TRUE(path->gaussian_source());
  EXPECT_TRUE(path->deterministic());
}

TEST(VpCosine, DerivativesMatchCentralDifferences) {
  auto path = make_path("type: vp_cosine\n");
  const auto t = f64({0.0, 0.01, 0.2, 0.5, 0.8, 0.99, 0.999});
  const double h = 1e-7;
  const Coefficients c = path->at(t), up = path->at(t + h), down = path->at(t - h);
  EXPECT_TRUE(torch::allclose(c.d_alpha, (up.alpha - down.alpha) / (2 * h), 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(c.d_beta, (up.beta - down.beta) / (2 * h), 1e-5, 1e-7));
}

TEST(VpCosine, AlphaDerivativeDivergesLikeTheInverseSquareRootAtTheData) {
  auto path = make_path("type: vp_cosine\n");
  const Coefficients c = path->at(f64({1 - 1e-6, 1 - 1e-8, 1.0}));
  // alpha ~ sqrt(1 - t) near t = 1, so d alpha/dt grows tenfold per factor 100 in 1 - t.
  EXPECT_NEAR(c.d_alpha[1].item<double>() / c.d_alpha[0].item<double>(), 10.0, 1e-3);
  EXPECT_TRUE(std::isinf(c.d_alpha[2].item<double>()));
  EXPECT_TRUE(std::isfinite(c.d_beta[2].item<double>()));
  // The doc says conversions clip: they stay finite at the endpoints.
  const auto x = torch::randn({2, 3}, torch::kFloat64);
  const auto v = path->to_velocity(Prediction::kScore, -x, x, f64({0.0, 1.0}));
  EXPECT_TRUE(torch::isfinite(v).all().item<bool>());
}

TEST(VpCosine, SmallOffsetTendsToTheTrigPath) {
  auto cosine = make_path("type: vp_cosine\noffset: 1e-7\n");
  auto trig = make_path("type: trig\n");
  const auto t = torch::linspace(0, 0.99, 34, torch::kFloat64);
  const Coefficients a = cosine->at(t), b = trig->at(t);
  EXPECT_TRUE(torch::allclose(a.alpha, b.alpha, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(a.beta, b.beta, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(a.d_alpha, b.d_alpha, 0, 1e-4));
  EXPECT_TRUE(torch::allclose(a.d_beta, b.d_beta, 0, 1e-6));
}

TEST(VpCosine, ConversionsRoundTrip) {
  auto path = make_path("type: vp_cosine\n");
  expect_conversions_round_trip(*path, "vp_cosine");
  expect_gaussian_data_closed_form(*path, "vp_cosine");
}

TEST(VpCosine, OffsetIsValidated) {
  EXPECT_THROW(make_path("type: vp_cosine\noffset: 0\n"), ConfigError);
  EXPECT_THROW(make_path("type: vp_cosine\noffset: -0.1\n"), ConfigError);
  EXPECT_THROW(make_path("type: vp_cosine\nbeta_max: 20\n"), ConfigError);
}

}  // namespace
}  // namespace flowlab::paths
