#pragma once
// Closed-form separation functions and exact marginal fields for the kinetic-energy tests.
#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "flowlab/paths/data_separation.h"
#include "flowlab/paths/empirical_posterior.h"
#include "flowlab/paths/path.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::paths {

/// Two points +-v with |v|^2 = d (mean 0, mu2 = 1): x1 = +-v, y = x1 + z/s gives
/// 1 - lambda(s) = E_g sech^2(d s^2 + sqrt(d) s g), g ~ N(0, 1) (theory.md 10, KO checks),
/// integrated here by the trapezoid rule on [-12, 12] (the integrand is smooth and decays).
inline double two_point_posterior_error(int d, double s) {
  const int points = 8001;
  const double lo = -12.0, hi = 12.0, h = (hi - lo) / (points - 1);
  double sum = 0.0;
  for (int i = 0; i < points; ++i) {
    const double g = lo + h * i;
    const double x = std::abs(d * s * s + std::sqrt(static_cast<double>(d)) * s * g);
    const double e = std::exp(-x);
    const double sech = 2.0 * e / (1.0 + e * e);
    const double w = (i == 0 || i == points - 1) ? 0.5 : 1.0;
    sum += w * std::exp(-0.5 * g * g) * sech * sech;
  }
  return sum * h / std::sqrt(2.0 * M_PI);
}

inline DataSeparation two_point_separation(int d) {
  SeparationOptions grid;
  grid.knots = 120;
  grid.s_min = 1e-3;
  grid.s_max = 1e3;
  return DataSeparation::from_posterior_error([d](double s) { return two_point_posterior_error(d, s); }, 0.0, 0.0,
                                              grid);
}

/// The data +-v, v = (1, ..., 1) in R^d.
inline torch::Tensor two_point_data(int d) {
  const auto v = torch::ones({1, d}, torch::kFloat64);
  return torch::cat({v, -v});
}

/// The exact marginal velocity of the empirical distribution of `data` [n, d] on a Gaussian-source
/// path: u = (m'/m) x + (a' - a m'/m) E[x1 | x], a = beta, m = alpha.
inline solvers::Field exact_velocity(const Path& path, torch::Tensor data) {
  return [&path, data](const torch::Tensor& x, const torch::Tensor& t) {
    const auto x64 = x.to(torch::kFloat64);
    const Coefficients c = path.at(t.to(torch::kFloat64));
    const auto a = c.beta.unsqueeze(1), m = c.alpha.unsqueeze(1);
    const auto rate = c.d_alpha.unsqueeze(1) / m;
    const auto posterior = empirical_posterior_mean(data, x64 / a, (c.beta / c.alpha));
    return (rate * x64 + (c.d_beta.unsqueeze(1) - a * rate) * posterior).to(x.dtype());
  };
}

}  // namespace flowlab::paths
