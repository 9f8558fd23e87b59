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

/// J Z for directions Z [B, d, m] per row: [B, d, m] (detached). The m directions of a row are
/// batched as m copies of it, so this is one forward and two backward passes over B m rows; the
/// field's values at x (detached) go to `values` when it is given.
torch::Tensor jacobian_times(const PointField& field, const torch::Tensor& x, const torch::Tensor& directions,
                             torch::Tensor* values = nullptr);

/// Exact divergences tr J per row [B] (d backward passes).
torch::Tensor divergences(const PointField& field, const torch::Tensor& x);

/// Hutchinson's divergence estimates z^T J z = z . (J^T z) per probe and row [k, B] for probes z [k, B, d]
/// (one forward and k backward passes); unbiased for tr J when E z z^T = I (Rademacher or Gaussian).
torch::Tensor divergence_estimates(const PointField& field, const torch::Tensor& x, const torch::Tensor& probes);

/// Full Jacobians [B, d, d] (entry (i, j) = d f_i / d x_j) by d vector-Jacobian products; the field's
/// values at x [B, d] (detached) go to `values` when it is given.
torch::Tensor jacobians(const PointField& field, const torch::Tensor& x, torch::Tensor* values = nullptr);

}  // namespace flowlab::diagnostics
