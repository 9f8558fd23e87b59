#include "flowlab/ot/ground_cost.h"

#include <torch/torch.h>

#include <stdexcept>

namespace flowlab::ot {
namespace {

// Up to this many coordinates, squared distances come from explicit differences
// (exact, zero on a diagonal); above, from a matrix product (fast).
constexpr int64_t kMaxExactDims = 16;
// cdist's compute_mode values (ATen's enum, also valid in LibTorch 2.x).
constexpr int64_t kCdistAlwaysMatmul = 1;
constexpr int64_t kCdistNeverMatmul = 2;

torch::Tensor squared_distances(const torch::Tensor& x, const torch::Tensor& y) {
  if (x.size(-1) <= kMaxExactDims) return (x.unsqueeze(-2) - y.unsqueeze(-3)).pow(2).sum(-1);
  // |x|^2 + |y|^2 - 2 x.y as one GEMM of augmented points, [x, |x|^2, 1] . [-2 y, 1, |y|^2]: the
  // result is the only n x m buffer (a fresh one costs a pass in page faults).
  const torch::Tensor x_aug = torch::cat({x, x.pow(2).sum(-1, true), torch::ones_like(x.narrow(-1, 0, 1))}, -1);
  const torch::Tensor y_aug = torch::cat({-2 * y, torch::ones_like(y.narrow(-1, 0, 1)), y.pow(2).sum(-1, true)}, -1);
  const torch::Tensor c = torch::matmul(x_aug, y_aug.transpose(-1, -2));
  // In place only outside autograd (clamp_min's derivative needs its input).
  return c.requires_grad() ? c.clamp_min(0) : c.clamp_min_(0);
}

}  // namespace

GroundCost parse_ground_cost(const std::string& name) {
  if (name == "sqeuclidean") return GroundCost::squared_euclidean;
  if (name == "half_sqeuclidean") return GroundCost::half_squared_euclidean;
  if (name == "euclidean") return GroundCost::euclidean;
  throw std::invalid_argument("unknown ground cost '" + name + "' (known: sqeuclidean, half_sqeuclidean, euclidean)");
}

std::string ground_cost_name(GroundCost cost) {
  switch (cost) {
    case GroundCost::squared_euclidean: return "sqeuclidean";
    case GroundCost::half_squared_euclidean: return "half_sqeuclidean";
    case GroundCost::euclidean: return "euclidean";
  }
  return "?";
}

torch::Tensor cost_matrix(const torch::Tensor& x, const torch::Tensor& y, GroundCost cost) {
  TORCH_CHECK(x.dim() >= 2 && y.dim() == x.dim() && x.size(-1) == y.size(-1),
              "cost_matrix: expected points x [..., n, d] and y [..., m, d], got ", x.sizes(), " and ", y.sizes());
  switch (cost) {
    case GroundCost::squared_euclidean: return squared_distances(x, y);
    case GroundCost::half_squared_euclidean: return 0.5 * squared_distances(x, y);
    case GroundCost::euclidean:
      // cdist's gradient at coincident points is the subgradient 0, not NaN.
      return torch::cdist(x, y, 2.0, x.size(-1) <= kMaxExactDims ? kCdistNeverMatmul : kCdistAlwaysMatmul);
  }
  return {};
}

}  // namespace flowlab::ot
