#pragma once
// Monotone piecewise-cubic Hermite interpolation (Fritsch & Carlson 1980, with the
// slopes of Fritsch & Butland / PCHIP): the interpolant is C1, passes through every
// point, and is monotone wherever the data are, so it never overshoots them.
#include <torch/types.h>

namespace flowlab::paths {

class MonotoneCubic {
 public:
  /// Interpolates values [K+1] on knots [K+1] (K >= 1, strictly increasing, finite).
  /// Both are copied to float64 on the CPU; bad shapes or knots throw Error.
  MonotoneCubic(const torch::Tensor& knots, const torch::Tensor& values);

  struct Evaluation {
    torch::Tensor value, derivative;
  };
  /// The interpolant and its derivative at x (any shape, any device), computed in float64 and
  /// returned in x's floating dtype. Outside [knots[0], knots[K]] the end cubics are extended.
  Evaluation evaluate(const torch::Tensor& x) const;

  /// float64 [K+1] on the CPU.
  const torch::Tensor& knots() const { return knots_; }
  const torch::Tensor& values() const { return values_; }
  /// The interpolant's derivative at each knot.
  const torch::Tensor& slopes() const { return slopes_; }

 private:
  torch::Tensor knots_, values_, slopes_;
};

}  // namespace flowlab::paths
