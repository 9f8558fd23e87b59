#pragma once
// Two-sided stochastic interpolants (Albergo, Boffi, Vanden-Eijnden 2023):
// any source x0, x_t = alpha(t) x0 + beta(t) x1 + gamma(t) z. The network
// predicts the velocity b = E[d/dt x_t | x_t]; other predictions do not
// determine b when the source is not Gaussian.
#include <string>

#include "flowlab/paths/path.h"

namespace flowlab::paths {

/// gamma(t) and its derivatives: zero; brownian sqrt(a t (1 - t)); bsquared t (1 - t);
/// sinesquared sin^2(pi t). gamma * gamma_dot is kept in closed form; gamma_dot of
/// brownian diverges at the endpoints, so it is evaluated at t clipped to [clip, 1 - clip].
struct GammaOptions {
  std::string type = "brownian";
  double a = 1.0;  ///< brownian: gamma^2 = a t (1 - t)
  static GammaOptions read(config::Node& node);
};

struct GammaValues {
  torch::Tensor gamma, d_gamma, gamma_d_gamma;
};

GammaValues gamma_at(const GammaOptions& options, const torch::Tensor& t, double clip);

struct TwoSidedOptions {
  GammaOptions gamma;
  static TwoSidedOptions read(config::Node& node);
};

/// linear: alpha = 1 - t, beta = t.
/// trig: alpha = sqrt(1 - gamma^2) cos(pi t / 2), beta = sqrt(1 - gamma^2) sin(pi t / 2)
///   (the variance-preserving form: alpha^2 + beta^2 + gamma^2 = 1).
class TwoSidedPath : public Path {
 public:
  enum class Shape { kLinear, kTrig };
  TwoSidedPath(const TwoSidedOptions& options, Shape shape);
  Coefficients at(const torch::Tensor& t) const override;
  bool gaussian_source() const override { return false; }
  bool deterministic() const override { return options_.gamma.type == "zero"; }

 private:
  TwoSidedOptions options_;
  Shape shape_;
};

/// Encoder-decoder interpolant: alpha = cos^2(pi t) [t < 1/2], beta = cos^2(pi t) [t > 1/2],
/// gamma = sin^2(pi t); at t = 1/2 the law is exactly N(0, I).
class EncoderDecoderPath : public Path {
 public:
  explicit EncoderDecoderPath(const NoOptions& = {}) {}
  Coefficients at(const torch::Tensor& t) const override;
  bool gaussian_source() const override { return false; }
  bool deterministic() const override { return false; }
};

}  // namespace flowlab::paths
