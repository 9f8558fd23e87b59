#pragma once
// Intrinsic dimension from the flow's Jacobian (Horvat & Pfister 2024, section 5): along the
// sampling ODE dx/dt = v(x, t) the Jacobian Y(t) = d x_t / d x_0 obeys the variational equation
// dY/dt = J_v(x_t, t) Y, Y(0) = I. Near the data the flow contracts the directions normal to the
// data manifold, so the singular values of Y split into k that stay of order one and d - k that
// vanish; k_hat = the number above the largest gap in log singular value.
#include <torch/types.h>

#include "flowlab/solvers/solver.h"

namespace flowlab::diagnostics {

struct FlowJacobian {
  torch::Tensor x;                ///< x at t_end [B, d]
  torch::Tensor jacobian;         ///< Y(t_end) [B, d, d], float64
  torch::Tensor singular_values;  ///< [B, d], decreasing
  torch::Tensor dimension;        ///< k_hat [B] (int64)
};

/// RK4 with `steps` steps from t = 0 to t_end on (x, Y) for starting points x0 [B, d]; the Jacobian of
/// `velocity` is taken exactly (d backward passes per stage).
FlowJacobian flow_jacobian(const solvers::Field& velocity, const torch::Tensor& x0, double t_end, int64_t steps);

}  // namespace flowlab::diagnostics
