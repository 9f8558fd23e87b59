#pragma once
// One-sided paths: x0 ~ N(0, I), gamma = 0, x_t = alpha(t) x0 + beta(t) x1.
#include "flowlab/paths/path.h"

namespace flowlab::paths {

/// Base of the one-sided paths: Gaussian source, no latent z.
class OneSidedPath : public Path {
 public:
  bool gaussian_source() const override { return true; }
  bool deterministic() const override { return true; }

 protected:
  /// Fills gamma, d_gamma and gamma_d_gamma with zeros.
  static Coefficients with_zero_gamma(torch::Tensor alpha, torch::Tensor beta, torch::Tensor d_alpha,
                                      torch::Tensor d_beta);
};

/// Trigonometric (cosine) path: alpha = cos(pi t / 2), beta = sin(pi t / 2).
class TrigPath : public OneSidedPath {
 public:
  explicit TrigPath(const NoOptions& = {}) {}
  Coefficients at(const torch::Tensor& t) const override;
};

struct PolynomialOptions {
  double n = 2.0;  ///< exponent
  static PolynomialOptions read(config::Node& node);
};

/// Polynomial path: alpha = 1 - t^n, beta = t^n (n = 1 is cond_ot).
class PolynomialPath : public OneSidedPath {
 public:
  explicit PolynomialPath(const PolynomialOptions& options) : n_(options.n) {}
  Coefficients at(const torch::Tensor& t) const override;

 private:
  double n_;
};

/// Score-based diffusion (SBDM) path of the interpolants paper: alpha = sqrt(1 - t^2), beta = t.
/// d alpha / dt = -t / sqrt(1 - t^2) diverges at t = 1.
class SbdmPath : public OneSidedPath {
 public:
  explicit SbdmPath(const NoOptions& = {}) {}
  Coefficients at(const torch::Tensor& t) const override;
};

struct VpOptions {
  double beta_min = 0.1;
  double beta_max = 20.0;
  static VpOptions read(config::Node& node);
};

/// Variance-preserving diffusion with a linear noise rate, in flowlab's time
/// (t = 1 is data): with s = 1 - t and T(s) = beta_min s + (beta_max - beta_min) s^2 / 2,
/// beta = exp(-T/2), alpha = sqrt(1 - exp(-T)). beta(0) = exp(-(beta_min + beta_max)/4) is
/// small but not 0: the source is N(0, I) only approximately, as in DDPM.
class VpPath : public OneSidedPath {
 public:
  explicit VpPath(const VpOptions& options) : options_(options) {}
  Coefficients at(const torch::Tensor& t) const override;

 private:
  VpOptions options_;
};

struct VpCosineOptions {
  double offset = 0.008;  ///< s of Nichol & Dhariwal; offset -> 0 tends to the trig path
  static VpCosineOptions read(config::Node& node);
};

/// Improved-DDPM cosine schedule (Nichol & Dhariwal 2021) in flowlab's time (t = 1 is data):
/// with s = 1 - t, alpha_bar(s) = f(s) / f(0), f(s) = cos^2(((s + offset) / (1 + offset)) pi / 2),
/// beta = sqrt(alpha_bar(1 - t)), alpha = sqrt(1 - alpha_bar(1 - t)). beta(0) = 0 (to rounding),
/// alpha(1) = 0 exactly; d alpha / dt = -beta d_beta / alpha diverges like (1 - t)^(-1/2) at t = 1.
class VpCosinePath : public OneSidedPath {
 public:
  explicit VpCosinePath(const VpCosineOptions& options) : offset_(options.offset) {}
  Coefficients at(const torch::Tensor& t) const override;

 private:
  double offset_;
};

}  // namespace flowlab::paths
