#include "flowlab/ot/ground_cost.h"

#include <torch/torch.h>

#include <stdexcept>
#include <vector>

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
  const auto x_batch = x.sizes().slice(0, x.dim() - 2), y_batch = y.sizes().slice(0, y.dim() - 2);
  if (x_batch != y_batch) {  // broadcast batches
    const torch::Tensor cross = torch::matmul(x, y.transpose(-1, -2));
    return (x.pow(2).sum(-1, true) + y.pow(2).sum(-1).unsqueeze(-2) - 2 * cross).clamp_min(0);
  }
  // |x|^2 + |y|^2 - 2 x.y as one GEMM of augmented points, [x, |x|^2, 1] . [-2 y, 1, |y|^2]: the
  // result is the only n x m buffer (a fresh one costs a pass in page faults).
  const int64_t n = x.size(-2), m = y.size(-2), d = x.size(-1);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(m);
  const torch::Tensor x3 = x.reshape({-1, n, d}), y3 = y.reshape({-1, m, d});
  const torch::Tensor x_aug = torch::cat({x3, x3.pow(2).sum(-1, true), torch::ones({x3.size(0), n, 1}, x3.options())}, 2);
  const torch::Tensor y_aug = torch::cat({-2 * y3, torch::ones({y3.size(0), m, 1}, y3.options()), y3.pow(2).sum(-1, true)}, 2);
  return torch::bmm(x_aug, y_aug.transpose(1, 2)).clamp_min_(0).reshape(shape);
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
