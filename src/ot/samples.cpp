#include "samples.h"

#include <torch/torch.h>

#include <algorithm>

namespace flowlab::ot::detail {
namespace {

// Up to this many coordinates, distances come from explicit differences.
constexpr int64_t kMaxExactDims = 16;
// cdist's compute_mode values (ATen's enum, also valid in LibTorch 2.x).
constexpr int64_t kCdistAlwaysMatmul = 1;
constexpr int64_t kCdistNeverMatmul = 2;
// Distances (float64) one block may hold: 32 MiB.
constexpr int64_t kBlockEntries = int64_t{1} << 22;

}  // namespace

torch::Tensor as_sample_matrix(const torch::Tensor& x, torch::Device device, const char* what) {
  TORCH_CHECK(x.defined() && x.dim() >= 1, what, ": expected samples [N, ...], got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(x.size(0) >= 1 && x.numel() >= x.size(0), what,
              ": need at least one sample with at least one coordinate, got shape ", x.sizes());
  const int64_t n = x.size(0);
  return x.detach().to(device, torch::kFloat64).reshape({n, x.numel() / n});
}

std::pair<torch::Tensor, torch::Tensor> as_sample_pair(const torch::Tensor& x, const torch::Tensor& y,
                                                       const char* what) {
  torch::Tensor a = as_sample_matrix(x, x.device(), what);
  torch::Tensor b = as_sample_matrix(y, x.device(), what);
  TORCH_CHECK(a.size(1) == b.size(1), what, ": samples of different dimension, x ", x.sizes(), " vs y ", y.sizes());
  return {a, b};
}

torch::Tensor pairwise_distances(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::cdist(a, b, 2.0, a.size(1) <= kMaxExactDims ? kCdistNeverMatmul : kCdistAlwaysMatmul);
}

double sum_over_pairs(const torch::Tensor& a, const torch::Tensor& b,
                      const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  const int64_t rows = std::max<int64_t>(1, kBlockEntries / b.size(0));
  // Accumulate on the device; a single transfer at the end.
  torch::Tensor total = torch::zeros({}, a.options());
  for (int64_t start = 0; start < a.size(0); start += rows) {
    total += f(pairwise_distances(a.narrow(0, start, std::min(rows, a.size(0) - start)), b)).sum();
  }
  return total.item<double>();
}

}  // namespace flowlab::ot::detail
