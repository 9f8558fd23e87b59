// The regression targets are right when the exact field is their conditional
// expectation: then the loss gradient at the exact field vanishes for every
// perturbation, here f + c (.) x + d, which for the Gaussian case (exact fields
// affine in x) characterises the minimiser. A wrong field gives a gradient far
// outside its Monte-Carlo error. Gaussian to Gaussian, two-sided linear path,
// gamma = sqrt(a t (1 - t)) (theory.md 10.1); one-sided cond_ot for noise and data.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "flowlab/data/dataset.h"
#include "flowlab/objectives/flow_matching.h"
#include "paths/make_path.h"

namespace flowlab::objectives {
namespace {

using paths::Prediction;
using FieldFn = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& t)>;

constexpr double kSigma1 = 0.6;
constexpr double kA = 1.0;

torch::Tensor mu() { return torch::tensor({1.5, -0.5}, torch::kFloat64); }

// An exact field plus a learnable affine perturbation that starts at zero.
struct PerturbedField : nn::Network {
  explicit PerturbedField(FieldFn f) : nn::Network(1), field(std::move(f)) {
    c = register_parameter("c", torch::zeros({2}, torch::kFloat64));
    d = register_parameter("d", torch::zeros({2}, torch::kFloat64));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& = {}) override {
    return field(x, t) + c * x + d;
  }
  FieldFn field;
  torch::Tensor c, d;
};

// x_t ~ N(t mu, C_t I) with C_t = (1-t)^2 + t^2 sigma1^2 + gamma^2.
torch::Tensor variance(const torch::Tensor& t, double a) {
  return (1 - t).pow(2) + t.pow(2) * kSigma1 * kSigma1 + a * t * (1 - t);
}
torch::Tensor col(const torch::Tensor& v) { return v.unsqueeze(1); }

FieldFn score(double a) {
  return [a](const torch::Tensor& x, const torch::Tensor& t) { return -(x - col(t) * mu()) / col(variance(t, a)); };
}
FieldFn velocity(double a) {
  return [a](const torch::Tensor& x, const torch::Tensor& t) {
    const auto dC = -2 * (1 - t) + 2 * t * kSigma1 * kSigma1 + a * (1 - 2 * t);
    return mu() + col(dC / (2 * variance(t, a))) * (x - col(t) * mu());
  };
}
FieldFn denoiser(double a) {
  return [a](const torch::Tensor& x, const torch::Tensor& t) {
    return col(torch::sqrt(a * t * (1 - t)) / variance(t, a)) * (x - col(t) * mu());
  };
}
// v = b - gamma' eta_z = mu + (t sigma1^2 - (1 - t)) / C_t (x - t mu).
FieldFn interpolant_velocity(double a) {
  return [a](const torch::Tensor& x, const torch::Tensor& t) {
    return mu() + col((t * kSigma1 * kSigma1 - (1 - t)) / variance(t, a)) * (x - col(t) * mu());
  };
}
// E[x1 | x] = mu + t sigma1^2 / C_t (x - t mu); on cond_ot (a = 0) E[x0 | x] = (1 - t) / C_t (x - t mu).
FieldFn data_estimate(double a) {
  return [a](const torch::Tensor& x, const torch::Tensor& t) {
    return mu() + col(t * kSigma1 * kSigma1 / variance(t, a)) * (x - col(t) * mu());
  };
}
FieldFn noise_estimate() {
  return [](const torch::Tensor& x, const torch::Tensor& t) {
    return col((1 - t) / variance(t, 0.0)) * (x - col(t) * mu());
  };
}

// Largest |gradient| / (its Monte-Carlo standard error) over the perturbation parameters.
double gradient_in_standard_errors(const std::string& path_yaml, Prediction kind, FieldFn field) {
  auto path = paths::make_path(path_yaml);
  FlowMatchingOptions options;
  options.time_sampler.type = "logit_normal";  // keeps t away from the endpoints, where targets blow up
  FlowMatching objective(options);
  const int64_t batches = 20, n = 20000;
  std::vector<torch::Tensor> grads;
  auto gen = data::make_generator(3);
  for (int64_t b = 0; b < batches; ++b) {
    auto net = std::make_shared<PerturbedField>(field);
    nn::ModelOptions model_options;
    model_options.predicts = {kind};
    nn::Model model({net}, model_options);
    const auto x0 = torch::randn({n, 2}, gen, torch::kFloat64);
    const auto x1 = mu() + kSigma1 * torch::randn({n, 2}, gen, torch::kFloat64);
    objective.loss(model, *path, x0, x1, gen).backward();
    grads.push_back(torch::cat({net->c.grad(), net->d.grad()}));
  }
  const auto g = torch::stack(grads);
  const auto standard_error = g.std(0) / std::sqrt(static_cast<double>(batches));
  return (g.mean(0).abs() / standard_error).max().item<double>();
}

const std::string kLinear = "type: linear\ngamma: brownian\na: 1.0\n";

TEST(Targets, ExactFieldsMinimiseTheirLossesOnTheTwoSidedPath) {
  EXPECT_LT(gradient_in_standard_errors(kLinear, Prediction::kVelocity, velocity(kA)), 4.5);
  EXPECT_LT(gradient_in_standard_errors(kLinear, Prediction::kScore, score(kA)), 4.5);
  EXPECT_LT(gradient_in_standard_errors(kLinear, Prediction::kDenoiser, denoiser(kA)), 4.5);
  EXPECT_LT(gradient_in_standard_errors(kLinear, Prediction::kInterpolantVelocity, interpolant_velocity(kA)), 4.5);
  EXPECT_LT(gradient_in_standard_errors(kLinear, Prediction::kData, data_estimate(kA)), 4.5);
}

TEST(Targets, ExactFieldsMinimiseTheirLossesOnTheOneSidedPath) {
  EXPECT_LT(gradient_in_standard_errors("type: cond_ot\n", Prediction::kData, data_estimate(0.0)), 4.5);
  EXPECT_LT(gradient_in_standard_errors("type: cond_ot\n", Prediction::kNoise, noise_estimate()), 4.5);
  EXPECT_LT(gradient_in_standard_errors("type: cond_ot\n", Prediction::kVelocity, velocity(0.0)), 4.5);
  EXPECT_LT(gradient_in_standard_errors("type: cond_ot\n", Prediction::kScore, score(0.0)), 4.5);
}

TEST(Targets, AWrongFieldIsDetected) {
  // The fields of a different gamma (a = 2) are not the minimisers on the a = 1 path.
  EXPECT_GT(gradient_in_standard_errors(kLinear, Prediction::kScore, score(2.0)), 10.0);
  EXPECT_GT(gradient_in_standard_errors(kLinear, Prediction::kVelocity, velocity(2.0)), 10.0);
  EXPECT_GT(gradient_in_standard_errors(kLinear, Prediction::kDenoiser, denoiser(2.0)), 10.0);
  EXPECT_GT(gradient_in_standard_errors(kLinear, Prediction::kInterpolantVelocity, interpolant_velocity(2.0)), 10.0);
  EXPECT_GT(gradient_in_standard_errors("type: cond_ot\n", Prediction::kNoise, data_estimate(0.0)), 10.0);
}

}  // namespace
}  // namespace flowlab::objectives
