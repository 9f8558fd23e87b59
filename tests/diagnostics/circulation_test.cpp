// Loop integrals against closed forms: none for gradients, 2 pi R^2 omega for a rotation, the
// exact pi R^2 v^T (J - J^T) u for linear fields at any radius, and that small-loop limit
// approached at the rate R^4 for a nonlinear field.
#include "flowlab/diagnostics/circulation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/data/dataset.h"

namespace flowlab::diagnostics {
namespace {

TEST(Circulation, RotationAndGradientFields) {
  const double omega = 0.7, radius = 1.3;
  const PointField rotation = [omega](const torch::Tensor& y) {
    return torch::stack({-omega * y.select(1, 1), omega * y.select(1, 0)}, 1);
  };
  auto gen = data::make_generator(1);
  const auto x = torch::randn({5, 2}, gen, torch::kFloat64);
  const auto e1 = torch::tensor({1.0, 0.0}, torch::kFloat64).expand({5, 2});
  const auto e2 = torch::tensor({0.0, 1.0}, torch::kFloat64).expand({5, 2});
  const LoopIntegral r = loop_integral(rotation, x, e1, e2, radius, 64);
  EXPECT_LT((r.circulation - 2 * M_PI * radius * radius * omega).abs().max().item<double>(), 1e-12);
  // The gradient of phi = |y|^2 - sum_i cos(y_i): no circulation around any loop.
  const PointField gradient = [](const torch::Tensor& y) { return torch::sin(y) + 2 * y; };
  const auto [u, v] = random_planes(5, 2, gen);
  const LoopIntegral g = loop_integral(gradient, x, u, v, radius, 128);
  EXPECT_LT(g.circulation.abs().max().item<double>(), 1e-10);
  EXPECT_GT(g.magnitude.min().item<double>(), 1.0);
}

TEST(Circulation, LinearFieldsAreExactAtAnyRadius) {
  auto gen = data::make_generator(2);
  const auto j = torch::randn({5, 5}, gen, torch::kFloat64);
  const auto c = torch::randn({5}, gen, torch::kFloat64);
  const auto x = torch::randn({12, 5}, gen, torch::kFloat64);
  const PointField field = [&](const torch::Tensor& y) { return torch::matmul(y, j.t()) + c; };
  const auto [u, v] = random_planes(12, 5, gen);
  const auto jacobians = j.unsqueeze(0).expand({12, 5, 5});
  for (double radius : {0.01, 1.0, 10.0}) {
    const auto expected = small_loop_circulation(jacobians, u, v, radius);
    const LoopIntegral loop = loop_integral(field, x, u, v, radius, 16);
    EXPECT_LT((loop.circulation - expected).abs().max().item<double>(), 1e-11 * std::max(1.0, radius * radius))
        << "R = " << radius;
  }
}

TEST(Circulation, SmallLoopLimitIsApproachedAtRateRToTheFourth) {
  auto gen = data::make_generator(3);
  const auto a = torch::randn({3, 3}, gen, torch::kFloat64);
  const PointField field = [&](const torch::Tensor& y) { return torch::tanh(torch::matmul(y, a.t())) + y.pow(3).roll(1, 1); };
  const auto x = torch::randn({6, 3}, gen, torch::kFloat64) * 0.5;
  const auto [u, v] = random_planes(6, 3, gen);
  const auto jac = jacobians(field, x);
  double previous = 0.0;
  for (double radius : {0.08, 0.04, 0.02}) {
    const auto error = (loop_integral(field, x, u, v, radius, 64).circulation -
                        small_loop_circulation(jac, u, v, radius)).abs().max().item<double>();
    if (previous > 0) EXPECT_NEAR(previous / error, 16.0, 2.0) << "R = " << radius;
    previous = error;
  }
  EXPECT_LT(previous, 1e-5);
}

TEST(Circulation, RandomPlanesAreOrthonormal) {
  auto gen = data::make_generator(4);
  const auto [u, v] = random_planes(100, 7, gen);
  EXPECT_LT(((u * u).sum(1) - 1).abs().max().item<double>(), 1e-14);
  EXPECT_LT(((v * v).sum(1) - 1).abs().max().item<double>(), 1e-14);
  EXPECT_LT((u * v).sum(1).abs().max().item<double>(), 1e-14);
}

}  // namespace
}  // namespace flowlab::diagnostics
