#pragma once
#include "flowlab/paths/one_sided.h"

namespace flowlab::paths {

/// Conditional optimal transport / rectified flow: x_t = (1 - t) x0 + t x1, x0 ~ N(0, I).
class CondOTPath : public OneSidedPath {
 public:
  explicit CondOTPath(const NoOptions& = {}) {}
  Coefficients at(const torch::Tensor& t) const override;
};

}  // namespace flowlab::paths
