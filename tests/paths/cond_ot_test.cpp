#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/core/error.h"
#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/fields.h"

namespace flowlab::paths {
namespace {

torch::TensorOptions f64_options() { return torch::TensorOptions().dtype(torch::kFloat64); }

TEST(CondOT, CoefficientsAndEndpoints) {
  CondOTPath path;
  const auto t = torch::tensor({0.0, 0.25, 1.0}, f64_options());
  const Coefficients c = path.at(t);
  EXPECT_TRUE(torch::allclose(c.alpha, torch::tensor({1.0, 0.75, 0.0}, f64_options())));
  EXPECT_TRUE(torch::allclose(c.beta, t));
  EXPECT_TRUE(torch::allclose(c.d_alpha, -torch::ones_like(t)));
  EXPECT_TRUE(torch::allclose(c.d_beta, torch::ones_like(t)));
  EXPECT_EQ(c.gamma.abs().max().item<double>(), 0.0);
}

TEST(CondOT, SampleMatchesIndependentFormula) {
  CondOTPath path;
  torch::manual_seed(1);
  const auto x0 = torch::randn({5, 3}, f64_options()), x1 = torch::randn({5, 3}, f64_options());
  const auto t = torch::rand({5}, f64_options());
  const PathSample s = path.sample(x0, x1, t, {});
  EXPECT_TRUE(torch::allclose(s.x_t, (1 - t).unsqueeze(1) * x0 + t.unsqueeze(1) * x1));
  EXPECT_TRUE(torch::allclose(s.dx_t, x1 - x0));
  EXPECT_TRUE(torch::allclose(path.target(Prediction::kVelocity, s), x1 - x0));
  EXPECT_TRUE(torch::allclose(path.target(Prediction::kNoise, s), x0));
  EXPECT_TRUE(torch::allclose(path.target(Prediction::kData, s), x1));
  // Conditional score of x_t | x1 ~ N(t x1, (1-t)^2 I) is -x0 / (1 - t).
  EXPECT_TRUE(torch::allclose(path.target(Prediction::kScore, s), -x0 / (1 - t).unsqueeze(1)));
  EXPECT_THROW(path.target(Prediction::kDenoiser, s), Error);
}

TEST(CondOT, ConversionsAreConsistentForTheTrueConditionalQuantities) {
  // With the true endpoints, each prediction's target converts to the same velocity x1 - x0.
  CondOTPath path;
  torch::manual_seed(2);
  const auto x0 = torch::randn({7, 2}, f64_options()), x1 = torch::randn({7, 2}, f64_options());
  const auto t = torch::rand({7}, f64_options()) * 0.9 + 0.05;
  const PathSample s = path.sample(x0, x1, t, {});
  for (Prediction kind : {Prediction::kVelocity, Prediction::kNoise, Prediction::kData, Prediction::kScore}) {
    const auto out = path.target(kind, s);
    EXPECT_TRUE(torch::allclose(path.to_velocity(kind, out, s.x_t, t), x1 - x0, 1e-9, 1e-9)) << to_string(kind);
    EXPECT_TRUE(torch::allclose(path.to_data(kind, out, s.x_t, t), x1, 1e-9, 1e-9)) << to_string(kind);
    EXPECT_TRUE(torch::allclose(path.to_score(kind, out, s.x_t, t), -x0 / (1 - t).unsqueeze(1), 1e-9, 1e-9))
        << to_string(kind);
  }
}

TEST(CondOT, GaussianScoreAndVelocityAgreeWithClosedForm) {
  // Data N(mu, sigma1^2 I): x_t ~ N(t mu, C_t I), C_t = (1-t)^2 + t^2 sigma1^2.
  // True score s = -(x - t mu)/C_t and velocity b = mu + (t sigma1^2 - (1 - t))/C_t (x - t mu).
  CondOTPath path;
  const double sigma1 = 0.7;
  const auto mu = torch::tensor({1.0, -2.0}, f64_options());
  const auto x = torch::randn({6, 2}, f64_options());
  const auto t = torch::full({6}, 0.3, f64_options());
  const double C = 0.7 * 0.7 + 0.09 * sigma1 * sigma1;
  const auto score = -(x - 0.3 * mu) / C;
  const auto velocity = mu + (0.3 * sigma1 * sigma1 - 0.7) / C * (x - 0.3 * mu);
  EXPECT_TRUE(torch::allclose(path.to_velocity(Prediction::kScore, score, x, t), velocity, 1e-10, 1e-10));
  EXPECT_TRUE(torch::allclose(path.to_score(Prediction::kVelocity, velocity, x, t), score, 1e-10, 1e-10));
  const auto field = velocity_field(
      [&](const torch::Tensor&, const torch::Tensor&, const data::Condition&) {
        return Predictions{{Prediction::kScore, score}};
      },
      {Prediction::kScore}, path);
  EXPECT_TRUE(torch::allclose(field(x, t), velocity, 1e-10, 1e-10));
}

}  // namespace
}  // namespace flowlab::paths
