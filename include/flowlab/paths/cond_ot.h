#pragma once
#include "flowlab/paths/one_sided.h"

namespace flowlab::paths {

/// Conditional optimal transport / rectified flow: x_t = (1 - t) x0 + t x1, x0 ~ N(0, I).
class CondOTPath : public OneSidedPath {
 public:
  explicit CondOTPath(const NoOptions& = {}) {}
  Coefficients at(const torch::Tensor& t) const override;
  /// x_t = x0 + t (x1 - x0) and d/dt x_t = x1 - x0: two operations instead of the general
  /// path's dozen (a training step of a small model is mostly per-operation cost).
  PathSample sample(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t,
                    const torch::Tensor& z) const override;
};

}  // namespace flowlab::paths
