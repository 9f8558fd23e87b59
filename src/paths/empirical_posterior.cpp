#include "flowlab/paths/empirical_posterior.h"

#include <torch/torch.h>

#include <algorithm>

namespace flowlab::paths {
namespace {

// Rows of y per block: the [block, n] logits stay near 2M doubles (16 MB), which keeps them in
// reused allocations instead of fresh pages per block.
constexpr int64_t kBlockElements = int64_t{1} << 21;

}  // namespace

torch::Tensor empirical_posterior_mean(const torch::Tensor& data, const torch::Tensor& y, const torch::Tensor& s) {
  TORCH_CHECK(data.dim() == 2 && y.dim() == 2 && data.size(1) == y.size(1) && data.size(0) > 0,
              "empirical posterior: data [n, d] and y [B, d] expected, got ", data.sizes(), " and ", y.sizes());
  TORCH_CHECK(s.dim() == 0 || (s.dim() == 1 && s.size(0) == y.size(0)),
              "empirical posterior: s must be a scalar or [B], got ", s.sizes());
  const auto x = data.to(torch::kFloat64);
  const auto yy = y.to(x.device(), torch::kFloat64);
  const auto s_all = s.to(x.device(), torch::kFloat64).expand({y.size(0)});
  const auto x_sq = x.pow(2).sum(1);  // [n]
  const int64_t block = std::max<int64_t>(1, kBlockElements / x.size(0));
  std::vector<torch::Tensor> means;
  for (int64_t start = 0; start < y.size(0); start += block) {
    const int64_t end = std::min(y.size(0), start + block);
    const auto yb = yy.slice(0, start, end);
    const auto sb = s_all.slice(0, start, end);
    // |y - x_i|^2 = |y|^2 - 2 y.x_i + |x_i|^2; the |y|^2 term is constant per row and cancels in the softmax.
    const auto sq_dist_shifted = x_sq.unsqueeze(0) - 2.0 * torch::matmul(yb, x.t());
    const auto logits = -0.5 * sb.pow(2).unsqueeze(1) * sq_dist_shifted;
    means.push_back(torch::matmul(torch::softmax(logits, 1), x));
  }
  return torch::cat(means, 0);
}

}  // namespace flowlab::paths
