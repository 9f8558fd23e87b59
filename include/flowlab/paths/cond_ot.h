#pragma once
#include "flowlab/paths/path.h"

namespace flowlab::paths {

/// Conditional optimal transport / rectified flow: x_t = (1 - t) x0 + t x1, x0 ~ N(0, I).
class CondOTPath : public Path {
 public:
  explicit CondOTPath(const NoOptions& = {}) {}
  Coefficients at(const torch::Tensor& t) const override;
  bool gaussian_source() const override { return true; }
  bool deterministic() const override { return true; }
};

}  // namespace flowlab::paths
