#include "flowlab/paths/one_sided.h"

#include <torch/torch.h>

#include <cmath>

namespace flowlab::paths {

Coefficients OneSidedPath::with_zero_gamma(torch::Tensor alpha, torch::Tensor beta, torch::Tensor d_alpha,
                                           torch::Tensor d_beta) {
  const auto zeros = torch::zeros_like(alpha);
  return {std::move(alpha), std::move(beta), zeros, std::move(d_alpha), std::move(d_beta), zeros, zeros};
}

Coefficients TrigPath::at(const torch::Tensor& t) const {
  const auto angle = t * (M_PI / 2);
  return with_zero_gamma(torch::cos(angle), torch::sin(angle), -(M_PI / 2) * torch::sin(angle),
                         (M_PI / 2) * torch::cos(angle));
}

PolynomialOptions PolynomialOptions::read(config::Node& node) {
  PolynomialOptions o;
  o.n = node.get<double>("n", o.n, "exponent: beta = t^n");
  node.expect(std::isfinite(o.n) && o.n > 0, "n", "a number > 0");
  return o;
}

Coefficients PolynomialPath::at(const torch::Tensor& t) const {
  const auto power = torch::pow(t, n_);
  // n t^(n-1), written so that t = 0 with n >= 1 gives 0 or n, never 0 * inf.
  const auto rate = n_ * torch::pow(t, n_ - 1.0);
  return with_zero_gamma(1.0 - power, power, -rate, rate);
}

Coefficients SbdmPath::at(const torch::Tensor& t) const {
  const auto alpha = torch::sqrt((1.0 - t * t).clamp_min(0.0));
  return with_zero_gamma(alpha, t, -t / alpha, torch::ones_like(t));
}

VpOptions VpOptions::read(config::Node& node) {
  VpOptions o;
  o.beta_min = node.get<double>("beta_min", o.beta_min, "noise rate at the data end");
  node.expect(o.beta_min >= 0, "beta_min", "a number >= 0");
  o.beta_max = node.get<double>("beta_max", o.beta_max, "noise rate at the noise end");
  node.expect(o.beta_max > o.beta_min, "beta_max", "a number > beta_min");
  return o;
}

Coefficients VpPath::at(const torch::Tensor& t) const {
  const double b0 = options_.beta_min, b1 = options_.beta_max;
  const auto s = 1.0 - t;
  const auto T = b0 * s + 0.5 * (b1 - b0) * s * s;
  const auto dT_dt = -(b0 + (b1 - b0) * s);
  const auto beta = torch::exp(-0.5 * T);
  const auto alpha = torch::sqrt(-torch::expm1(-T));
  // d alpha / dt = exp(-T) T' / (2 alpha), d beta / dt = -beta T' / 2.
  return with_zero_gamma(alpha, beta, torch::exp(-T) * dT_dt / (2.0 * alpha), -0.5 * beta * dT_dt);
}

VpCosineOptions VpCosineOptions::read(config::Node& node) {
  VpCosineOptions o;
  o.offset = node.get<double>("offset", o.offset,
                              "shift s of Nichol & Dhariwal: the noise level grows like sqrt(1 - t) near the data "
                              "instead of like 1 - t");
  node.expect(std::isfinite(o.offset) && o.offset > 0, "offset", "a number > 0");
  return o;
}

Coefficients VpCosinePath::at(const torch::Tensor& t) const {
  // With u(s) = ((s + offset) / (1 + offset)) pi / 2 = u0 + theta, theta = rate s:
  // beta = cos(u) / cos(u0) = cos(theta) - tan(u0) sin(theta), exactly 1 at s = 0, and
  // alpha^2 = (cos^2 u0 - cos^2 u) / cos^2 u0 = sin(theta) sin(theta + 2 u0) / cos^2 u0, which has
  // no cancellation near t = 1 (1 - beta^2 would).
  const double rate = (M_PI / 2) / (1.0 + offset_);  // du/ds
  const double u0 = offset_ * rate;
  const double tan_u0 = std::tan(u0), cos_u0 = std::cos(u0);
  const auto theta = rate * (1.0 - t);
  const auto sin_theta = torch::sin(theta), cos_theta = torch::cos(theta);
  const auto beta = cos_theta - tan_u0 * sin_theta;
  const auto alpha = torch::sqrt((sin_theta * torch::sin(theta + 2.0 * u0)).clamp_min(0.0)) / cos_u0;
  // d beta/dt = -d beta/ds = rate sin(u) / cos(u0); alpha^2 + beta^2 = 1 gives d alpha = -beta d beta / alpha.
  const auto d_beta = rate * (sin_theta + tan_u0 * cos_theta);
  return with_zero_gamma(alpha, beta, -beta * d_beta / alpha, d_beta);
}

}  // namespace flowlab::paths
