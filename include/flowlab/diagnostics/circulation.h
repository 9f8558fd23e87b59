#pragma once
// Closed-loop circulation: the line integral of a field around circles
//   c(phi) = x + R (cos phi u + sin phi v),  u, v orthonormal,
// by the trapezoid rule on N points (spectrally accurate for a periodic integrand). A gradient
// field has none; for a linear field f(y) = J (y - x) + c it is pi R^2 v^T (J - J^T) u exactly,
// and for any smooth field it is that (with J at x) up to O(R^4).
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "flowlab/diagnostics/jacobian.h"

namespace flowlab::diagnostics {

/// Random orthonormal pairs (u, v), one per point: [B, d] each (d >= 2), Gram-Schmidt on Gaussians.
std::pair<torch::Tensor, torch::Tensor> random_planes(int64_t points, int64_t dim, at::Generator& gen,
                                                      torch::ScalarType dtype = torch::kFloat64);

struct LoopIntegral {
  torch::Tensor circulation;  ///< I = sum_k f(c_k) . c'(phi_k) (2 pi / N) per point [B]
  torch::Tensor magnitude;    ///< sum_k |f(c_k)| |c'(phi_k)| (2 pi / N) per point [B]; I / magnitude is in [-1, 1]
};

/// Around the circle of radius `radius` through the plane (u, v) at each point x [B, d], with
/// `points` quadrature nodes (the field is evaluated on B * points points, in chunks of B).
LoopIntegral loop_integral(const PointField& field, const torch::Tensor& x, const torch::Tensor& u,
                           const torch::Tensor& v, double radius, int64_t points);

/// The small-loop limit pi R^2 v^T (J - J^T) u per point, for Jacobians J [B, d, d].
torch::Tensor small_loop_circulation(const torch::Tensor& jacobians, const torch::Tensor& u, const torch::Tensor& v,
                                     double radius);

}  // namespace flowlab::diagnostics
