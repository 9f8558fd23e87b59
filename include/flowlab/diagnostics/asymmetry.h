#pragma once
// How far a field is from a gradient: the Jacobian asymmetry
//   A = ||(J - J^T)/2||_F / ||J||_F  in [0, 1],
// 0 for a gradient field (symmetric J) and 1 for a pure rotation (antisymmetric J): the
// antisymmetric part is an orthogonal projection of J in the Frobenius inner product.
// Exact from full Jacobians in low dimension; in any dimension from k probes z
// (Rademacher), since E|M z|^2 = ||M||_F^2: ||(J - J^T)/2||_F^2 = E|(Jz - J^T z)/2|^2 and
// ||J||_F^2 = E|Jz|^2, each estimated without bias.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "flowlab/diagnostics/jacobian.h"

namespace flowlab::diagnostics {

struct AsymmetryEstimate {
  torch::Tensor per_point;  ///< A per point [B] (float64; a ratio of probe means when randomized)
  double mean = 0.0, se = 0.0;  ///< mean of per_point and its standard error over the points
  /// The pooled asymmetry sqrt(mean ||(J - J^T)/2||^2 / mean ||J||^2) over the points, which the
  /// randomized estimator gives with only a ratio bias of O(1/(B k)).
  double pooled = 0.0;
  /// Means over the points of ||(J - J^T)/2||_F^2 and ||J||_F^2 and their standard errors
  /// (over points and probes); unbiased in both modes.
  double antisymmetric_sq = 0.0, antisymmetric_sq_se = 0.0;
  double jacobian_sq = 0.0, jacobian_sq_se = 0.0;
};

/// From the full Jacobian of every point (d backward passes).
AsymmetryEstimate exact_asymmetry(const PointField& field, const torch::Tensor& x);
/// The same from Jacobians [B, d, d] already computed.
AsymmetryEstimate asymmetry_of(const torch::Tensor& jacobians);

/// From `probes` Rademacher probes per point (two backward passes and a third through the first
/// per probe), drawn with `gen`.
AsymmetryEstimate randomized_asymmetry(const PointField& field, const torch::Tensor& x, int64_t probes,
                                       at::Generator& gen);

}  // namespace flowlab::diagnostics
