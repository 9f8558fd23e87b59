// Exact Gaussian-mixture fields: the Gaussian -> Gaussian closed form (theory.md 10.1),
// an independent mixture density at each t, score = grad log rho, the continuity equation
// by finite differences, and RK4 transport of N(0, I) onto N(mu, sigma1^2 I).
#include "flowlab/paths/gaussian_mixture_fields.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "paths/make_path.h"

namespace flowlab::paths {
namespace {

using data::GaussianMixture;

torch::Tensor matrix(double a, double b, double d) { return f64({a, b, b, d}).reshape({2, 2}); }

// Two 2-D mixtures whose covariances do not commute, so J_b is not symmetric.
GaussianMixture source_mixture() {
  return GaussianMixture(f64({0.4, 0.6}), f64({-1.5, 0.5, 1.0, -1.0}).reshape({2, 2}),
                         torch::stack({matrix(1.0, 0.6, 0.8), matrix(0.3, 0.0, 0.6)}));
}
GaussianMixture target_mixture() {
  return GaussianMixture(f64({0.2, 0.3, 0.5}), f64({2.0, 2.0, -2.0, 1.0, 0.0, -2.5}).reshape({3, 2}),
                         torch::stack({matrix(0.5, -0.2, 1.5), matrix(0.2, 0.1, 0.3), matrix(1.2, 0.5, 0.4)}));
}
GaussianMixture standard_normal() { return GaussianMixture(f64({1.0}), torch::zeros({1, 2}, torch::kFloat64),
                                                           torch::eye(2, torch::kFloat64).unsqueeze(0)); }

// A path with its oracle; two-sided paths get the mixture source, Gaussian-source and mirror
// paths their own (N(0, I), the data).
struct Case {
  std::string yaml;
  std::unique_ptr<Path> path;
  std::unique_ptr<GaussianMixtureFields> fields;
  GaussianMixture source;
};

std::vector<Case> cases() {
  const std::vector<std::string> yamls = {
      "type: linear\ngamma: brownian\na: 1\n", "type: linear\ngamma: zero\n", "type: trig_vp\ngamma: bsquared\n",
      "type: encoder_decoder\n", "type: sbdm\n", "type: vp_cosine\n", "type: mirror\ngamma: brownian\na: 2\n",
      "type: tabulated\nt: [0, 0.3, 0.6, 1]\nalpha: [1, 0.8, 0.3, 0]\nbeta: [0, 0.2, 0.6, 1]\n"
      "gamma: [0, 0.4, 0.3, 0]\nsource: any\n"};
  std::vector<Case> out;
  for (const std::string& yaml : yamls) {
    Case c{yaml, make_path(yaml), nullptr, standard_normal()};
    if (c.path->mirror()) {
      c.source = target_mixture();
      c.fields = std::make_unique<GaussianMixtureFields>(*c.path, target_mixture());
    } else if (c.path->gaussian_source()) {
      c.fields = std::make_unique<GaussianMixtureFields>(*c.path, target_mixture());
    } else {
      c.source = source_mixture();
      c.fields = std::make_unique<GaussianMixtureFields>(*c.path, source_mixture(), target_mixture());
    }
    out.push_back(std::move(c));
  }
  return out;
}

torch::Tensor points(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({n, 2}, torch::kFloat64) * 1.5;
}

TEST(GaussianMixtureFields, GaussianToGaussianClosedForm) {
  // rho0 = N(0, I), rho1 = N(mu, sigma1^2 I), linear, gamma^2 = a t (1 - t):
  // C_t = (1-t)^2 + t^2 sigma1^2 + a t (1-t), b = mu + C_t'/(2 C_t) (x - t mu), s = -(x - t mu)/C_t.
  const double sigma1 = 0.7;
  const auto mu = f64({1.0, -2.0});
  const GaussianMixture target(f64({1.0}), mu.unsqueeze(0), (sigma1 * sigma1 * torch::eye(2, torch::kFloat64)).unsqueeze(0));
  for (double a : {1.0, 2.0}) {
    auto path = make_path("type: linear\ngamma: brownian\na: " + std::to_string(a) + "\n");
    const GaussianMixtureFields fields(*path, target);
    const auto x = points(5, 1);
    const auto t = f64({0.0, 0.2, 0.5, 0.8, 1.0});
    const auto C = (1 - t).pow(2) + t.pow(2) * sigma1 * sigma1 + a * t * (1 - t);
    const auto dC = -2 * (1 - t) + 2 * t * sigma1 * sigma1 + a * (1 - 2 * t);
    const auto centred = x - t.unsqueeze(1) * mu;
    const auto velocity = mu + (dC / (2 * C)).unsqueeze(1) * centred;
    const auto score = -centred / C.unsqueeze(1);
    const auto log_prob = -torch::log(2 * M_PI * C) - centred.pow(2).sum(1) / (2 * C);
    EXPECT_TRUE(torch::allclose(fields.velocity(x, t), velocity, 1e-12, 1e-12)) << a;
    EXPECT_TRUE(torch::allclose(fields.score(x, t), score, 1e-12, 1e-12)) << a;
    EXPECT_TRUE(torch::allclose(fields.log_prob(x, t), log_prob, 1e-12, 1e-12)) << a;
  }
}

TEST(GaussianMixtureFields, DensityIsTheMixtureOfPairs) {
  // At a fixed t, rho_t is a Gaussian mixture whose components are built here from the path's
  // coefficients; data::GaussianMixture evaluates it independently.
  for (const Case& c : cases()) {
    for (double time : {0.0, 0.3, 0.5, 0.7, 1.0}) {
      const Coefficients k = c.path->at(f64({time}));
      double alpha = k.alpha.item<double>(), beta = k.beta.item<double>();
      const double gamma = k.gamma.item<double>();
      const GaussianMixture target = target_mixture();
      const GaussianMixture& source = c.source;
      if (c.path->mirror()) beta += alpha, alpha = 0;
      std::vector<torch::Tensor> weights, means, covariances;
      for (int64_t i = 0; i < source.num_components(); ++i) {
        for (int64_t j = 0; j < target.num_components(); ++j) {
          weights.push_back(source.weights()[i] * target.weights()[j]);
          means.push_back(alpha * source.means()[i] + beta * target.means()[j]);
          covariances.push_back(alpha * alpha * source.covariances()[i] + beta * beta * target.covariances()[j] +
                                gamma * gamma * torch::eye(2, torch::kFloat64));
        }
      }
      const GaussianMixture expected(torch::stack(weights), torch::stack(means), torch::stack(covariances));
      const auto x = points(7, 2);
      const auto t = torch::full({7}, time, torch::kFloat64);
      EXPECT_TRUE(torch::allclose(c.fields->log_prob(x, t), expected.log_prob(x), 1e-10, 1e-10)) << c.yaml << time;
      EXPECT_TRUE(torch::allclose(c.fields->score(x, t), expected.score(x), 1e-10, 1e-10)) << c.yaml << time;
    }
  }
}

TEST(GaussianMixtureFields, EndpointsAreTheEndpointDistributions) {
  auto path = make_path("type: linear\ngamma: brownian\na: 1\n");
  const GaussianMixtureFields fields(*path, source_mixture(), target_mixture());
  const auto x = points(6, 3);
  const auto zeros = torch::zeros({6}, torch::kFloat64), ones = torch::ones({6}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(fields.log_prob(x, zeros), source_mixture().log_prob(x), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(fields.score(x, zeros), source_mixture().score(x), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(fields.log_prob(x, ones), target_mixture().log_prob(x), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(fields.score(x, ones), target_mixture().score(x), 1e-12, 1e-12));
}

TEST(GaussianMixtureFields, ScoreIsTheGradientOfTheLogDensity) {
  for (const Case& c : cases()) {
    const auto x = points(6, 4).requires_grad_(true);
    const auto t = f64({0.1, 0.25, 0.4, 0.55, 0.7, 0.9});
    c.fields->log_prob(x, t).sum().backward();
    EXPECT_TRUE(torch::allclose(x.grad(), c.fields->score(x.detach(), t), 1e-10, 1e-10)) << c.yaml;
  }
}

TEST(GaussianMixtureFields, VelocitySolvesTheContinuityEquation) {
  // d rho / dt + div(b rho) = 0, both terms by central differences.
  const double h = 1e-4;
  for (const Case& c : cases()) {
    const auto x = points(8, 5);
    const auto t = f64({0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85});
    auto rho = [&](const torch::Tensor& y, const torch::Tensor& s) { return torch::exp(c.fields->log_prob(y, s)); };
    const auto d_rho_dt = (rho(x, t + h) - rho(x, t - h)) / (2 * h);
    auto divergence = torch::zeros_like(d_rho_dt);
    for (int64_t k = 0; k < 2; ++k) {
      const auto e = torch::zeros({1, 2}, torch::kFloat64).index_fill_(1, torch::tensor({k}), h);
      const auto flux_up = c.fields->velocity(x + e, t).select(1, k) * rho(x + e, t);
      const auto flux_down = c.fields->velocity(x - e, t).select(1, k) * rho(x - e, t);
      divergence += (flux_up - flux_down) / (2 * h);
    }
    const double scale = d_rho_dt.abs().max().item<double>() + divergence.abs().max().item<double>();
    ASSERT_GT(scale, 1e-3) << c.yaml;
    EXPECT_LT((d_rho_dt + divergence).abs().max().item<double>(), 1e-6 * scale) << c.yaml;
  }
}

TEST(GaussianMixtureFields, MirrorVelocityOnlyDenoisesAndRenoises) {
  // x0 = x1: b = E[gamma' z | x_t] = -gamma gamma' s.
  auto path = make_path("type: mirror\ngamma: sinesquared\n");
  const GaussianMixtureFields fields(*path, target_mixture());
  const auto x = points(5, 6);
  const auto t = f64({0.1, 0.3, 0.5, 0.7, 0.9});
  const Coefficients c = path->at(t);
  EXPECT_TRUE(torch::allclose(fields.velocity(x, t), -c.gamma_d_gamma.unsqueeze(1) * fields.score(x, t), 1e-12, 1e-12));
  EXPECT_THROW(GaussianMixtureFields(*path, source_mixture(), target_mixture()), Error);
}

TEST(GaussianMixtureFields, Rk4TransportsTheGaussianOntoTheGaussianTarget) {
  // For isotropic Gaussians the flow is x - t mu = sqrt(C_t / C_0) x0, so x1 = mu + sigma1 x0.
  const double sigma1 = 0.7;
  const auto mu = f64({1.0, -2.0});
  const GaussianMixture target(f64({1.0}), mu.unsqueeze(0), (sigma1 * sigma1 * torch::eye(2, torch::kFloat64)).unsqueeze(0));
  solvers::SolverOptions options;
  options.steps = 100;
  const auto solver = solvers::make_solver("rk4", options);
  for (const std::string yaml : {"type: linear\ngamma: brownian\na: 1\n", "type: cond_ot\n"}) {
    auto path = make_path(yaml);
    const GaussianMixtureFields fields(*path, target);
    torch::manual_seed(13);
    const auto x0 = torch::randn({32, 2}, torch::kFloat64);
    const auto x1 = solver->integrate(fields.velocity_field(), x0, 0.0, 1.0).x;
    EXPECT_TRUE(torch::allclose(x1, mu + sigma1 * x0, 0, 1e-7)) << yaml;
    // And back: the flow is invertible.
    const auto back = solver->integrate(fields.velocity_field(), x1, 1.0, 0.0).x;
    EXPECT_TRUE(torch::allclose(back, x0, 0, 1e-7)) << yaml;
  }
}

TEST(GaussianMixtureFields, KeepsDtypeAndChecksShapes) {
  auto path = make_path("type: cond_ot\n");
  const GaussianMixtureFields fields(*path, target_mixture());
  const auto x = points(4, 7).to(torch::kFloat32);
  const auto t = torch::full({4}, 0.5, torch::kFloat32);
  EXPECT_EQ(fields.velocity(x, t).dtype(), torch::kFloat32);
  EXPECT_EQ(fields.score_field()(x, t).dtype(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(fields.log_prob(x, t).to(torch::kFloat64), fields.log_prob(x.to(torch::kFloat64), t),
                              1e-5, 1e-5));
  EXPECT_THROW(fields.velocity(torch::zeros({4, 3}), t), std::exception);
  EXPECT_THROW(fields.velocity(x, torch::zeros({3})), std::exception);
  EXPECT_THROW(GaussianMixtureFields(*path, source_mixture(),
                                     GaussianMixture(f64({1.0}), torch::zeros({1, 3}, torch::kFloat64),
                                                     torch::eye(3, torch::kFloat64).unsqueeze(0))),
               std::exception);
}

TEST(GaussianMixtureFields, SingularCovarianceIsAnError) {
  // alpha = beta = gamma = 0 at t = 1/2: x_t is a point mass there.
  auto path = make_path("type: tabulated\nt: [0, 0.5, 1]\nalpha: [1, 0, 0]\nbeta: [0, 0, 1]\n");
  const GaussianMixtureFields fields(*path, target_mixture());
  EXPECT_THROW(fields.score(points(2, 8), f64({0.3, 0.5})), Error);
}

}  // namespace
}  // namespace flowlab::paths
