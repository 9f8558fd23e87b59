#pragma once
// Checks shared by the tests of Gaussian-source paths: every prediction's conditional
// target converts back to the conditional velocity, and for Gaussian data N(mu, sigma^2 I)
// the conversions reproduce the closed-form velocity and score of rho_t.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "flowlab/paths/path.h"

namespace flowlab::paths {

/// Per-sample targets equal the conversions only when x_t determines alpha x0 + beta x1, so gamma = 0.
inline void expect_conversions_round_trip(const Path& path, const std::string& name) {
  ASSERT_TRUE(path.gaussian_source() && path.deterministic()) << name;
  torch::manual_seed(11);
  const auto x0 = torch::randn({6, 3}, torch::kFloat64), x1 = torch::randn({6, 3}, torch::kFloat64);
  const auto z = torch::randn({6, 3}, torch::kFloat64);
  const auto t = torch::rand({6}, torch::kFloat64) * 0.9 + 0.05;
  const PathSample s = path.sample(x0, x1, t, z);
  for (Prediction kind : {Prediction::kVelocity, Prediction::kNoise, Prediction::kData, Prediction::kScore}) {
    const auto out = path.target(kind, s);
    EXPECT_TRUE(torch::allclose(path.to_velocity(kind, out, s.x_t, t), s.dx_t, 1e-8, 1e-8)) << name << " " << to_string(kind);
    EXPECT_TRUE(torch::allclose(path.to_data(kind, out, s.x_t, t), x1, 1e-8, 1e-8)) << name << " " << to_string(kind);
  }
}

inline void expect_gaussian_data_closed_form(const Path& path, const std::string& name) {
  // x_t ~ N(beta mu, v I), v = alpha^2 + gamma^2 + beta^2 sigma^2: score = -(x - beta mu) / v and
  // b = d_beta mu + (alpha d_alpha + gamma gamma' + beta d_beta sigma^2) / v (x - beta mu).
  const double sigma = 0.6;
  const auto mu = torch::tensor({0.5, -1.5}, torch::kFloat64);
  torch::manual_seed(12);
  const auto x = torch::randn({5, 2}, torch::kFloat64);
  const auto t = torch::tensor({0.1, 0.3, 0.5, 0.7, 0.9}, torch::kFloat64);
  const Coefficients c = path.at(t);
  auto col = [](const torch::Tensor& v) { return v.unsqueeze(1); };
  const auto v = col(c.alpha * c.alpha + c.gamma * c.gamma + c.beta * c.beta * sigma * sigma);
  const auto centred = x - col(c.beta) * mu;
  const auto score = -centred / v;
  const auto velocity =
      col(c.d_beta) * mu + col(c.alpha * c.d_alpha + c.gamma_d_gamma + c.beta * c.d_beta * sigma * sigma) / v * centred;
  EXPECT_TRUE(torch::allclose(path.to_velocity(Prediction::kScore, score, x, t), velocity, 1e-9, 1e-9)) << name;
  EXPECT_TRUE(torch::allclose(path.to_score(Prediction::kVelocity, velocity, x, t), score, 1e-9, 1e-9)) << name;
  const auto data = path.to_data(Prediction::kScore, score, x, t);
  EXPECT_TRUE(torch::allclose(path.to_velocity(Prediction::kData, data, x, t), velocity, 1e-9, 1e-9)) << name;
}

}  // namespace flowlab::paths
