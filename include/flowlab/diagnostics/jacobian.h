#pragma once
// Jacobians of a vector field on points, J = d f / d x, from reverse-mode products only
// (LibTorch 1.13 has no forward mode in C++): J^T w is one vector-Jacobian product, and J z
// is the derivative in w of (J^T w) . z, a second backward pass through the first.
#include <torch/types.h>

#include <functional>

namespace flowlab::diagnostics {

/// A field on points x [B, d] -> [B, d], differentiable in x, each row depending only on its own
/// row of x (a velocity or score at one time).
using PointField = std::function<torch::Tensor(const torch::Tensor& x)>;

struct JacobianProducts {
  torch::Tensor jz;   ///< J z per row [B, d]
  torch::Tensor jtz;  ///< J^T z per row [B, d]
};

/// J z and J^T z per row for probes z [B, d] (detached results).
JacobianProducts jacobian_products(const PointField& field, const torch::Tensor& x, const torch::Tensor& z);

/// Full Jacobians [B, d, d] (entry (i, j) = d f_i / d x_j) by d vector-Jacobian products; the field's
/// values at x [B, d] (detached) go to `values` when it is given.
torch::Tensor jacobians(const PointField& field, const torch::Tensor& x, torch::Tensor* values = nullptr);

}  // namespace flowlab::diagnostics
