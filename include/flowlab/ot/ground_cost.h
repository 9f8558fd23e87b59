#pragma once
// Ground costs c(x, y) between points, the C of optimal transport.
#include <torch/types.h>

#include <string>

namespace flowlab::ot {

/// Which ground cost. The libraries differ here, which changes every number:
/// POT's ot.dist and OTT's SqEuclidean use |x - y|^2; GeomLoss (p = 2) uses
/// |x - y|^2 / 2; GeomLoss (p = 1) uses |x - y|.
enum class GroundCost { squared_euclidean, half_squared_euclidean, euclidean };

/// "sqeuclidean", "half_sqeuclidean", "euclidean"; throws with the known names.
GroundCost parse_ground_cost(const std::string& name);
std::string ground_cost_name(GroundCost cost);

/// C[..., i, j] = c(x[..., i, :], y[..., j, :]) for x [..., n, d] and y [..., m, d]
/// (same leading batch dimensions), in x's dtype, differentiable. Squared costs
/// use |x|^2 + |y|^2 - 2 x.y for d > 16 (clamped at 0; POT's ot.dist does the same)
/// and exact coordinate differences below.
torch::Tensor cost_matrix(const torch::Tensor& x, const torch::Tensor& y, GroundCost cost);

}  // namespace flowlab::ot
