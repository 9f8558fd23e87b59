#pragma once
// Explicit Runge-Kutta machinery shared by every ODE solver: a Butcher tableau
// and one stage evaluator that works for any tableau, with per-sample times
// and step sizes. Euler, midpoint, Heun, RK4 and Dormand-Prince are tableaux.
#include <torch/types.h>

#include <string>
#include <vector>

#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {

/// An explicit Runge-Kutta method: k_i = f(x + h sum_j a[i][j] k_j, t + c[i] h),
/// x_next = x + h sum_i b[i] k_i.
struct ButcherTableau {
  std::string name;
  int order = 0;                       ///< order of the solution weights b
  std::vector<double> c;               ///< stage times, c[0] = 0
  std::vector<std::vector<double>> a;  ///< row i holds i coefficients (strictly lower triangular)
  std::vector<double> b;               ///< solution weights
  std::vector<double> error_weights;   ///< b - b_embedded; empty without an embedded method

  int stages() const { return static_cast<int>(c.size()); }
};

const ButcherTableau& euler_tableau();
const ButcherTableau& midpoint_tableau();
const ButcherTableau& heun_tableau();  ///< explicit trapezoidal rule
const ButcherTableau& rk4_tableau();
/// Dormand-Prince 5(4): b is the 5th-order solution; the last row of a equals b,
/// so the last stage is the derivative at the new state (first same as last).
const ButcherTableau& dormand_prince_tableau();

/// The fixed-step tableaux by name: euler, midpoint, heun, rk4.
const std::vector<const ButcherTableau*>& fixed_step_tableaux();

/// Calls `field` and checks that it returned a tensor of x's shape (TORCH_CHECK
/// naming both shapes); the result is cast to x's dtype.
torch::Tensor evaluate_field(const Field& field, const torch::Tensor& x, const torch::Tensor& t);

/// The stage derivatives of one step from (x [B, ...], t [B]) with step sizes h [B]
/// (signed; t and h may be float64 whatever x's dtype). When `first_stage` is
/// given it is used as k_0 instead of evaluating the field (first same as last).
std::vector<torch::Tensor> runge_kutta_stages(const ButcherTableau& tableau, const Field& field,
                                              const torch::Tensor& x, const torch::Tensor& t,
                                              const torch::Tensor& h,
                                              const torch::Tensor& first_stage = {});

/// h * sum_i weights[i] * stages[i], with h [B] broadcast over the trailing dims:
/// with b this is a step's increment, with error_weights its error estimate.
torch::Tensor runge_kutta_increment(const torch::Tensor& h, const std::vector<double>& weights,
                                    const std::vector<torch::Tensor>& stages);

}  // namespace flowlab::solvers
