#include "samples.h"

#include <torch/torch.h>

#include <algorithm>

namespace flowlab::ot::detail {
namespace {

// Up to this many coordinates, distances come from explicit differences.
constexpr int64_t kMaxExactDims = 16;
// Entries (float64) of the largest temporary one block may create: 32 MiB.
constexpr int64_t kBlockEntries = int64_t{1} << 22;

}  // namespace

torch::Tensor as_sample_matrix(const torch::Tensor& x, torch::Device device, const char* what) {
  TORCH_CHECK(x.defined() && x.dim() >= 1, what, ": expected samples [N, ...], got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(x.size(0) >= 1, what, ": need at least one sample, got shape ", x.sizes());
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

torch::Tensor squared_distances(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.size(1) <= kMaxExactDims) return (a.unsqueeze(1) - b.unsqueeze(0)).square().sum(-1);
  const torch::Tensor a_norms = a.square().sum(1, /*keepdim=*/true);
  const torch::Tensor b_norms = b.square().sum(1).unsqueeze(0);
  return (a_norms + b_norms - 2.0 * a.matmul(b.t())).clamp_min(0.0);
}

double sum_over_pairs(const torch::Tensor& a, const torch::Tensor& b,
                      const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  const int64_t per_pair = a.size(1) <= kMaxExactDims ? std::max<int64_t>(a.size(1), 1) : 1;
  const int64_t rows = std::max<int64_t>(1, kBlockEntries / (b.size(0) * per_pair));
  // Accumulate on the device; a single transfer at the end.
  torch::Tensor total = torch::zeros({}, a.options());
  for (int64_t start = 0; start < a.size(0); start += rows) {
    const torch::Tensor block = a.narrow(0, start, std::min(rows, a.size(0) - start));
    total += f(squared_distances(block, b)).sum();
  }
  return total.item<double>();
}

}  // namespace flowlab::ot::detail
