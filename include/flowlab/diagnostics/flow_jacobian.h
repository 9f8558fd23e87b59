#pragma once
// Intrinsic dimension from the flow's Jacobian (Horvat & Pfister 2024, section 5): along the
// sampling ODE dx/dt = v(x, t) the Jacobian Y(t) = d x_t / d x_0 obeys the variational equation
// dY/dt = J_v(x_t, t) Y, Y(0) = I. Near the data the flow contracts the directions normal to the
// data manifold, so the singular values of Y split into k that stay of order one and d - k that
// vanish; k_hat = the number above the largest gap in log singular value.
//
// In high dimension Y is carried on m < d directions only: Y(t) P with P [d, m] orthonormal and
// random (a randomized range finder). The k large singular values of Y P are those of Y scaled by
// about sqrt(m / d), the d - k vanishing ones stay vanishing, so the gap survives when k < m.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "flowlab/solvers/solver.h"

namespace flowlab::diagnostics {

struct FlowJacobian {
  torch::Tensor x;                ///< x at t_end [B, d]
  torch::Tensor jacobian;         ///< Y(t_end) P [B, d, m], float64 (P = I when m = d)
  torch::Tensor singular_values;  ///< [B, m], decreasing
  torch::Tensor dimension;        ///< k_hat [B] (int64)
};

/// RK4 with `steps` steps from t = 0 to t_end on (x, Y P) for starting points x0 [B, d]; J_v Y P comes
/// from m Jacobian-vector products per stage. directions = 0 or d: the whole Jacobian (P = I);
/// 2 <= m < d: P is drawn with `gen` (required then), and estimates can only lie in [1, m - 1].
FlowJacobian flow_jacobian(const solvers::Field& velocity, const torch::Tensor& x0, double t_end, int64_t steps,
                           int64_t directions = 0, at::Generator* gen = nullptr);

}  // namespace flowlab::diagnostics
