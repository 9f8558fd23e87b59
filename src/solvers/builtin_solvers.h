#pragma once
// Private to src/solvers: constructors of the built-in solvers and the input
// checks they share. make_solver() in registry.cpp dispatches to these.
#include <memory>
#include <string>

#include "flowlab/solvers/runge_kutta.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::solvers::detail {

/// Fixed-step explicit Runge-Kutta with `options.steps` uniform steps.
std::unique_ptr<Solver> make_fixed_step_solver(const ButcherTableau& tableau, const SolverOptions& options);

/// Adaptive Dormand-Prince 5(4) with per-sample error control.
std::unique_ptr<Solver> make_dopri5_solver(const SolverOptions& options);

/// Throws Error unless the options are usable (steps >= 1, tolerances >= 0 and
/// not both 0, max_steps >= 1); `solver` names the solver in the message.
void validate_options(const std::string& solver, const SolverOptions& options);

/// TORCH_CHECKs x0 ([B, ...], floating point) and finite t0, t1; throws Error
/// naming t0 when x0 holds non-finite values.
void check_solve_inputs(const std::string& solver, const torch::Tensor& x0, double t0, double t1);

/// Rows of x [B, ...] whose elements are all finite, as a [B] bool tensor.
torch::Tensor finite_rows(const torch::Tensor& x);

/// Throws Error when a fixed-step solve's `first_non_finite_step` (see SolveResult) is >= 0,
/// naming the step, its times and how many of the `batch` samples are non-finite at the end.
void throw_if_non_finite(const std::string& solver, const SolveResult& result, double t0, double t1, int64_t batch);

/// A time for error messages ("0.35").
std::string format_time(double t);

}  // namespace flowlab::solvers::detail
