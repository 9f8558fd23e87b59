#include "flowlab/paths/two_sided.h"

#include <torch/torch.h>

#include <cmath>

namespace flowlab::paths {

GammaOptions GammaOptions::read(config::Node& node) {
  GammaOptions o;
  o.type = node.get_choice("gamma", o.type, {"zero", "brownian", "bsquared", "sinesquared"},
                           "latent noise scale gamma(t)");
  if (o.type == "brownian" || node.describing()) {
    o.a = node.get<double>("a", o.a, "brownian: gamma^2 = a t (1 - t)");
    node.expect(o.a > 0 && o.a < 4, "a", "a number in (0, 4) (so that gamma < 1)");
  }
  return o;
}

GammaValues gamma_at(const GammaOptions& options, const torch::Tensor& t, double clip) {
  if (options.type == "zero") {
    const auto zeros = torch::zeros_like(t);
    return {zeros, zeros, zeros};
  }
  if (options.type == "brownian") {
    const auto gamma = torch::sqrt((options.a * t * (1.0 - t)).clamp_min(0.0));
    const auto gamma_d_gamma = 0.5 * options.a * (1.0 - 2.0 * t);
    const auto inner = t.clamp(clip, 1.0 - clip);
    const auto d_gamma = 0.5 * options.a * (1.0 - 2.0 * inner) / torch::sqrt(options.a * inner * (1.0 - inner));
    return {gamma, d_gamma, gamma_d_gamma};
  }
  if (options.type == "bsquared") {
    const auto gamma = t * (1.0 - t);
    const auto d_gamma = 1.0 - 2.0 * t;
    return {gamma, d_gamma, gamma * d_gamma};
  }
  const auto s = torch::sin(M_PI * t);
  const auto gamma = s * s;
  const auto d_gamma = M_PI * torch::sin(2.0 * M_PI * t);
  return {gamma, d_gamma, gamma * d_gamma};
}

TwoSidedOptions TwoSidedOptions::read(config::Node& node) { return {GammaOptions::read(node)}; }

TwoSidedPath::TwoSidedPath(const TwoSidedOptions& options, Shape shape) : options_(options), shape_(shape) {}

Coefficients TwoSidedPath::at(const torch::Tensor& t) const {
  const GammaValues g = gamma_at(options_.gamma, t, clip());
  if (shape_ == Shape::kLinear) {
    const auto ones = torch::ones_like(t);
    return {1.0 - t, t.clone(), g.gamma, -ones, ones, g.d_gamma, g.gamma_d_gamma};
  }
  // alpha = r cos(theta), beta = r sin(theta), r = sqrt(1 - gamma^2), dr/dt = -gamma gamma' / r.
  const auto r = torch::sqrt(1.0 - g.gamma * g.gamma);
  const auto dr = -g.gamma_d_gamma / r;
  const auto theta = t * (M_PI / 2);
  const auto c = torch::cos(theta), s = torch::sin(theta);
  return {r * c, r * s, g.gamma, dr * c - r * (M_PI / 2) * s, dr * s + r * (M_PI / 2) * c, g.d_gamma,
          g.gamma_d_gamma};
}

Coefficients EncoderDecoderPath::at(const torch::Tensor& t) const {
  const auto c = torch::cos(M_PI * t);
  const auto first_half = (t < 0.5).to(t.dtype());
  const auto second_half = (t > 0.5).to(t.dtype());
  const auto c2 = c * c;
  const auto d_c2 = -M_PI * torch::sin(2.0 * M_PI * t);
  const auto s = torch::sin(M_PI * t);
  const auto gamma = s * s;
  const auto d_gamma = M_PI * torch::sin(2.0 * M_PI * t);
  return {c2 * first_half, c2 * second_half, gamma, d_c2 * first_half, d_c2 * second_half, d_gamma, gamma * d_gamma};
}

}  // namespace flowlab::paths
