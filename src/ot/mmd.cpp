#include "flowlab/ot/mmd.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "samples.h"

namespace flowlab::ot {
namespace {

// Pooled points beyond which the median heuristic subsamples.
constexpr int64_t kMedianPoints = 2048;

double median_bandwidth_of(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor pooled = torch::cat({a, b}, 0);
  const int64_t n = pooled.size(0);
  if (n > kMedianPoints) {
    // Evenly spaced rows, taken from both clouds in proportion to their size.
    std::vector<int64_t> rows(kMedianPoints);
    for (int64_t k = 0; k < kMedianPoints; ++k) rows[k] = k * n / kMedianPoints;
    const torch::Tensor row_index = torch::tensor(rows, torch::TensorOptions().dtype(torch::kLong));
    pooled = pooled.index_select(0, row_index.to(pooled.device()));
  }
  const int64_t m = pooled.size(0);
  if (m < 2) return 1.0;
  const torch::Tensor upper =
      torch::triu_indices(m, m, 1, torch::TensorOptions().dtype(torch::kLong).device(pooled.device()));
  const torch::Tensor distances =
      std::get<0>(detail::pairwise_distances(pooled, pooled).index({upper[0], upper[1]}).sort());
  const int64_t count = distances.size(0);
  // numpy's median: the mean of the two middle values for an even count.
  const double median =
      0.5 * (distances[(count - 1) / 2].item<double>() + distances[count / 2].item<double>());
  return median > 0.0 ? median : 1.0;
}

// sum_{i,j} k(a_i, b_j) for the RBF kernel of bandwidth h.
double kernel_sum(const torch::Tensor& a, const torch::Tensor& b, double h) {
  const double scale = -1.0 / (2.0 * h * h);
  return detail::sum_over_pairs(a, b,
                                [scale](const torch::Tensor& distances) { return (distances.square() * scale).exp(); });
}

}  // namespace

double median_bandwidth(const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  const auto [a, b] = detail::as_sample_pair(x, y, "median_bandwidth");
  return median_bandwidth_of(a, b);
}

double mmd(const torch::Tensor& x, const torch::Tensor& y, double bandwidth, bool biased) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(std::isfinite(bandwidth), "mmd: bandwidth must be finite, got ", bandwidth);
  const auto [a, b] = detail::as_sample_pair(x, y, "mmd");
  const double h = bandwidth > 0.0 ? bandwidth : median_bandwidth_of(a, b);
  const double n = static_cast<double>(a.size(0));
  const double m = static_cast<double>(b.size(0));
  const double xx = kernel_sum(a, a, h);
  const double yy = kernel_sum(b, b, h);
  const double xy = kernel_sum(a, b, h);
  if (biased) return xx / (n * n) + yy / (m * m) - 2.0 * xy / (n * m);
  TORCH_CHECK(a.size(0) >= 2 && b.size(0) >= 2, "mmd: the unbiased estimate needs at least 2 samples per set, got ",
              a.size(0), " and ", b.size(0));
  // k(z, z) = 1: dropping the diagonal removes n (resp. m) from each self-sum.
  return (xx - n) / (n * (n - 1.0)) + (yy - m) / (m * (m - 1.0)) - 2.0 * xy / (n * m);
}

}  // namespace flowlab::ot
