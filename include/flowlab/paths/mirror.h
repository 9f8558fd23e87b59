#pragma once
// The mirror interpolant (Albergo, Boffi, Vanden-Eijnden 2023): data to itself,
// rho0 = rho1 = data, x_t = x1 + gamma(t) z. It is written in the common form with
// alpha = 1 - t, beta = t and x0 = x1, which the trainer draws for mirror() paths.
#include "flowlab/paths/two_sided.h"

namespace flowlab::paths {

/// x_t = x1 + gamma(t) z with a gamma family of TwoSidedOptions (not "zero": then x_t = x1).
/// b = E[gamma' z | x_t] = -gamma gamma' s: the velocity only denoises and renoises.
class MirrorPath : public Path {
 public:
  explicit MirrorPath(const TwoSidedOptions& options);
  Coefficients at(const torch::Tensor& t) const override;
  bool gaussian_source() const override { return false; }
  bool deterministic() const override { return false; }
  bool mirror() const override { return true; }

 private:
  TwoSidedOptions options_;
};

}  // namespace flowlab::paths
