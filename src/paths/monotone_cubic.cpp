#include "flowlab/paths/monotone_cubic.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "flowlab/core/error.h"
#include "numeric.h"

namespace flowlab::paths {
namespace {

double sign(double v) { return static_cast<double>((v > 0) - (v < 0)); }

// Slope at an end knot from the three-point formula, limited so that the end interval stays
// monotone (as in PCHIP): h0, delta0 belong to the end interval, h1, delta1 to its neighbour.
double end_slope(double h0, double h1, double delta0, double delta1) {
  const double d = ((2.0 * h0 + h1) * delta0 - h0 * delta1) / (h0 + h1);
  if (sign(d) != sign(delta0)) return 0.0;
  if (sign(delta0) != sign(delta1) && std::abs(d) > 3.0 * std::abs(delta0)) return 3.0 * delta0;
  return d;
}

// Fritsch-Butland slopes: 0 at a local extremum of the data, otherwise a weighted harmonic
// mean of the neighbouring secants, which is at most three times either of them
// (the Fritsch-Carlson condition for monotonicity).
std::vector<double> pchip_slopes(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  std::vector<double> h(n - 1), delta(n - 1), d(n, 0.0);
  for (std::size_t k = 0; k + 1 < n; ++k) {
    h[k] = x[k + 1] - x[k];
    delta[k] = (y[k + 1] - y[k]) / h[k];
  }
  if (n == 2) return {delta[0], delta[0]};
  for (std::size_t k = 1; k + 1 < n; ++k) {
    if (delta[k - 1] * delta[k] <= 0.0) continue;
    const double w1 = 2.0 * h[k] + h[k - 1], w2 = h[k] + 2.0 * h[k - 1];
    d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k]);
  }
  d[0] = end_slope(h[0], h[1], delta[0], delta[1]);
  d[n - 1] = end_slope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
  return d;
}

}  // namespace

MonotoneCubic::MonotoneCubic(const torch::Tensor& knots, const torch::Tensor& values) {
  TORCH_CHECK(knots.dim() == 1 && values.dim() == 1 && knots.size(0) == values.size(0) && knots.size(0) >= 2,
              "monotone cubic: knots and values must both be [K+1] with K >= 1, got ", knots.sizes(), " and ",
              values.sizes());
  knots_ = knots.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  values_ = values.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  if (!torch::isfinite(knots_).all().item<bool>() || !torch::isfinite(values_).all().item<bool>()) {
    throw Error("monotone cubic: knots and values must be finite");
  }
  if (!(knots_.diff() > 0).all().item<bool>()) throw Error("monotone cubic: knots must be strictly increasing");
  const std::vector<double> slopes = pchip_slopes(detail::host_values(knots_), detail::host_values(values_));
  slopes_ = torch::tensor(slopes, torch::kFloat64);
}

MonotoneCubic::Evaluation MonotoneCubic::evaluate(const torch::Tensor& x) const {
  TORCH_CHECK(x.is_floating_point(), "monotone cubic: x must be floating point, got ", x.dtype());
  const auto x64 = x.to(torch::kFloat64);
  const auto device = x64.device();
  const auto knots = knots_.to(device), values = values_.to(device), slopes = slopes_.to(device);
  const int64_t intervals = knots.size(0) - 1;
  // Interval k holds knots[k] <= x < knots[k+1]; the last one also holds x = knots[K].
  const auto k = (torch::searchsorted(knots, x64.detach().contiguous(), /*out_int32=*/false, /*right=*/true) - 1)
                     .clamp(0, intervals - 1);
  const auto x_left = knots.index({k}), h = knots.index({k + 1}) - x_left;
  const auto y0 = values.index({k}), y1 = values.index({k + 1});
  const auto m0 = slopes.index({k}) * h, m1 = slopes.index({k + 1}) * h;
  const auto u = (x64 - x_left) / h;
  const auto u2 = u * u, u3 = u2 * u;
  // Cubic Hermite basis on [0, 1] and its derivative in u.
  const auto value = (2 * u3 - 3 * u2 + 1) * y0 + (u3 - 2 * u2 + u) * m0 + (3 * u2 - 2 * u3) * y1 + (u3 - u2) * m1;
  const auto derivative =
      ((6 * u2 - 6 * u) * y0 + (3 * u2 - 4 * u + 1) * m0 + (6 * u - 6 * u2) * y1 + (3 * u2 - 2 * u) * m1) / h;
  return {value.to(x.dtype()), derivative.to(x.dtype())};
}

}  // namespace flowlab::paths
