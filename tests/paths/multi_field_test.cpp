// Two predicted fields determine the velocity and the score on two-sided and
// mirror paths: b = v + gamma' eta_z = v - gamma gamma' s, s = -eta_z / gamma.
// The exact Gaussian-mixture fields are the oracle.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/core/error.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "paths/make_path.h"

namespace flowlab::paths {
namespace {

using data::GaussianMixture;


GaussianMixture isotropic_source() {
  return GaussianMixture(f64({0.5, 0.5}), f64({-1.0, 0.5, 1.0, -1.0}).reshape({2, 2}),
                         torch::stack({torch::eye(2, torch::kFloat64) * 0.5, torch::eye(2, torch::kFloat64)}));
}
GaussianMixture isotropic_target() {
  return GaussianMixture(f64({0.3, 0.7}), f64({2.0, 1.0, -2.0, 0.0}).reshape({2, 2}),
                         torch::stack({torch::eye(2, torch::kFloat64) * 0.3, torch::eye(2, torch::kFloat64) * 0.6}));
}

struct Exact {
  torch::Tensor x, t, b, s, eta, v;
};

// b and s from the oracle; eta_z = -gamma s and v = b + gamma gamma' s.
Exact exact_fields(const Path& path, const GaussianMixtureFields& fields) {
  torch::manual_seed(3);
  Exact e;
  e.x = torch::randn({64, 2}, torch::kFloat64) * 2.0;
  e.t = torch::rand({64}, torch::kFloat64) * 0.9 + 0.05;
  e.b = fields.velocity(e.x, e.t);
  e.s = fields.score(e.x, e.t);
  const Coefficients c = path.at(e.t);
  e.eta = -c.gamma.unsqueeze(1) * e.s;
  e.v = e.b + c.gamma_d_gamma.unsqueeze(1) * e.s;
  return e;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_TRUE(torch::allclose(a, b, 1e-9, 1e-9)) << (a - b).abs().max().item<double>();
}

TEST(MultiField, TwoSidedVelocityAndScoreFromPairsOfFields) {
  for (const std::string yaml : {"type: linear\ngamma: brownian\na: 1\n", "type: trig_vp\ngamma: bsquared\n",
                                 "type: encoder_decoder\n"}) {
    SCOPED_TRACE(yaml);
    auto path = make_path(yaml);
    GaussianMixtureFields fields(*path, isotropic_source(), isotropic_target());
    const Exact e = exact_fields(*path, fields);
    using P = Prediction;
    expect_close(path->velocity({{P::kInterpolantVelocity, e.v}, {P::kDenoiser, e.eta}}, e.x, e.t), e.b);
    expect_close(path->velocity({{P::kInterpolantVelocity, e.v}, {P::kScore, e.s}}, e.x, e.t), e.b);
    expect_close(path->velocity({{P::kVelocity, e.b}, {P::kScore, e.s}}, e.x, e.t), e.b);
    expect_close(path->score({{P::kVelocity, e.b}, {P::kDenoiser, e.eta}}, e.x, e.t), e.s);
    expect_close(path->score({{P::kInterpolantVelocity, e.v}, {P::kScore, e.s}}, e.x, e.t), e.s);
    // One field that is not the velocity does not determine it; b alone has no score.
    EXPECT_THROW(path->velocity({{P::kDenoiser, e.eta}}, e.x, e.t), Error);
    EXPECT_THROW(path->velocity({{P::kInterpolantVelocity, e.v}}, e.x, e.t), Error);
    EXPECT_THROW(path->score({{P::kVelocity, e.b}}, e.x, e.t), Error);
    EXPECT_FALSE(path->why_no_velocity({P::kData}).empty());
    EXPECT_TRUE(path->why_no_velocity({P::kInterpolantVelocity, P::kDenoiser}).empty());
  }
}

TEST(MultiField, MirrorVelocityFromTheDenoiserOrTheScore) {
  auto path = make_path("type: mirror\ngamma: brownian\na: 2\n");
  GaussianMixtureFields fields(*path, isotropic_target());
  const Exact e = exact_fields(*path, fields);
  using P = Prediction;
  expect_close(path->velocity({{P::kDenoiser, e.eta}}, e.x, e.t), e.b);
  expect_close(path->velocity({{P::kScore, e.s}}, e.x, e.t), e.b);
  expect_close(path->score({{P::kDenoiser, e.eta}}, e.x, e.t), e.s);
  EXPECT_THROW(path->check_target(P::kInterpolantVelocity), Error);
  EXPECT_THROW(path->check_target(P::kNoise), Error);
}

TEST(MultiField, GaussianSourceConvertsFromAnySingleField) {
  auto path = make_path("type: cond_ot\n");
  GaussianMixtureFields fields(*path, isotropic_target());
  const Exact e = exact_fields(*path, fields);
  using P = Prediction;
  const torch::Tensor x1_hat = path->to_data(P::kScore, e.s, e.x, e.t);
  for (P kind : {P::kVelocity, P::kScore, P::kData, P::kNoise, P::kInterpolantVelocity}) {
    SCOPED_TRACE(to_string(kind));
    // Each prediction of the exact field, made from the data estimate, converts back to b and s.
    const Coefficients c = path->at(e.t);
    const auto col = [](const torch::Tensor& v) { return v.unsqueeze(1); };
    torch::Tensor out;
    switch (kind) {
      case P::kVelocity: case P::kInterpolantVelocity: out = e.b; break;  // gamma = 0: v = b
      case P::kScore: out = e.s; break;
      case P::kData: out = x1_hat; break;
      case P::kNoise: out = (e.x - col(c.beta) * x1_hat) / col(c.alpha); break;
      default: break;
    }
    expect_close(path->velocity({{kind, out}}, e.x, e.t), e.b);
    expect_close(path->score({{kind, out}}, e.x, e.t), e.s);
  }
}

}  // namespace
}  // namespace flowlab::paths
