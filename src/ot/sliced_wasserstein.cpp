#include "flowlab/ot/sliced_wasserstein.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "samples.h"

namespace flowlab::ot {
namespace {

// For unequal sizes the quantile functions F^-1 (N atoms) and G^-1 (M atoms) are
// step functions with jumps at levels i/N and j/M. On each interval of the merged
// grid both are constant, so W_p^p = sum_k (s_k - s_{k-1}) |x_(a_k) - y_(b_k)|^p.
// Levels are kept as integers in units of 1/(N M) so the grid is exact.
struct QuantileGrid {
  std::vector<int64_t> x_index;  // a_k: row of sorted x on interval k
  std::vector<int64_t> y_index;  // b_k: row of sorted y on interval k
  std::vector<double> width;     // s_k - s_{k-1}
};

QuantileGrid merged_quantile_grid(int64_t n, int64_t m) {
  TORCH_CHECK(n <= std::numeric_limits<int64_t>::max() / m, "wasserstein_1d_pow: ", n, " x ", m,
              " samples are too many");
  std::vector<int64_t> x_levels(n), y_levels(m), levels;
  for (int64_t i = 0; i < n; ++i) x_levels[i] = (i + 1) * m;
  for (int64_t j = 0; j < m; ++j) y_levels[j] = (j + 1) * n;
  levels.reserve(n + m);
  std::merge(x_levels.begin(), x_levels.end(), y_levels.begin(), y_levels.end(), std::back_inserter(levels));
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());

  QuantileGrid grid;
  const double total = static_cast<double>(n) * static_cast<double>(m);
  int64_t previous = 0;
  for (int64_t level : levels) {
    // The quantile on (previous, level] is the ceil(level / m)-th smallest x.
    grid.x_index.push_back((level + m - 1) / m - 1);
    grid.y_index.push_back((level + n - 1) / n - 1);
    grid.width.push_back(static_cast<double>(level - previous) / total);
    previous = level;
  }
  return grid;
}

torch::Tensor to_device_tensor(const std::vector<int64_t>& values, torch::Device device) {
  return torch::tensor(values, torch::TensorOptions().dtype(torch::kLong)).to(device);
}

}  // namespace

torch::Tensor random_unit_directions(int64_t d, int64_t k, at::Generator& gen, torch::Device device) {
  TORCH_CHECK(d >= 1 && k >= 1, "random_unit_directions: need d >= 1 and k >= 1, got d=", d, ", k=", k);
  torch::NoGradGuard no_grad;
  // A standard Gaussian vector, normalised, is uniform on the sphere.
  const torch::Tensor gaussian =
      torch::randn({d, k}, gen, torch::TensorOptions().dtype(torch::kFloat64).device(gen.device()));
  return (gaussian / gaussian.norm(2, {0}, /*keepdim=*/true).clamp_min(1e-300)).to(device);
}

torch::Tensor wasserstein_1d_pow(const torch::Tensor& xs, const torch::Tensor& ys, double p) {
  TORCH_CHECK(xs.dim() == 2 && ys.dim() == 2 && xs.size(1) == ys.size(1) && xs.size(0) >= 1 && ys.size(0) >= 1,
              "wasserstein_1d_pow: expected projections [N, K] and [M, K], got ", xs.sizes(), " and ", ys.sizes());
  TORCH_CHECK(p >= 1.0 && std::isfinite(p), "wasserstein_1d_pow: p must be >= 1, got ", p);
  torch::NoGradGuard no_grad;
  // Sorted along contiguous rows [K, N]: much faster than a strided sort over dim 0.
  const torch::Tensor x_sorted = std::get<0>(xs.to(torch::kFloat64).t().contiguous().sort(1));
  const torch::Tensor y_sorted = std::get<0>(ys.to(xs.device(), torch::kFloat64).t().contiguous().sort(1));
  if (x_sorted.size(1) == y_sorted.size(1)) {
    // Equal sizes: the optimal plan matches the i-th smallest with the i-th smallest.
    return (x_sorted - y_sorted).abs().pow(p).mean(1);
  }
  const QuantileGrid grid = merged_quantile_grid(x_sorted.size(1), y_sorted.size(1));
  const torch::Device device = x_sorted.device();
  const torch::Tensor x_quantiles = x_sorted.index_select(1, to_device_tensor(grid.x_index, device));
  const torch::Tensor y_quantiles = y_sorted.index_select(1, to_device_tensor(grid.y_index, device));
  const torch::Tensor widths = torch::tensor(grid.width, torch::TensorOptions().dtype(torch::kFloat64)).to(device);
  return ((x_quantiles - y_quantiles).abs().pow(p) * widths).sum(1);
}

double sliced_wasserstein(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& projections,
                          double p) {
  torch::NoGradGuard no_grad;
  const auto [a, b] = detail::as_sample_pair(x, y, "sliced_wasserstein");
  TORCH_CHECK(projections.dim() == 2 && projections.size(0) == a.size(1) && projections.size(1) >= 1,
              "sliced_wasserstein: projections must be [d, K] with d = ", a.size(1), ", got ", projections.sizes());
  const torch::Tensor theta = projections.detach().to(a.device(), torch::kFloat64);
  const torch::Tensor per_direction = wasserstein_1d_pow(a.matmul(theta), b.matmul(theta), p);
  return std::pow(per_direction.mean().item<double>(), 1.0 / p);
}

double sliced_wasserstein(const torch::Tensor& x, const torch::Tensor& y, int64_t n_projections,
                          at::Generator& gen, double p) {
  TORCH_CHECK(n_projections >= 1, "sliced_wasserstein: n_projections must be >= 1, got ", n_projections);
  TORCH_CHECK(x.defined() && x.dim() >= 1 && x.size(0) >= 1, "sliced_wasserstein: expected samples [N, ...]");
  const int64_t d = x.numel() / x.size(0);
  return sliced_wasserstein(x, y, random_unit_directions(d, n_projections, gen, x.device()), p);
}

}  // namespace flowlab::ot
