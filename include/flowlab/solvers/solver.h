#pragma once
// ODE solvers. They see a field, never a network, so each is tested on
// analytic fields with known solutions. They integrate forward (t1 > t0) or
// backward (t1 < t0) and build no autograd graph unless asked.
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "flowlab/core/registry.h"

namespace flowlab::solvers {

/// dx/dt = field(x, t), with x [B, ...] and t [B] (one time per sample, x's dtype).
/// Adaptive solvers call it on the rows of the samples still integrating only,
/// so it must treat rows independently and accept any batch size.
using Field = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& t)>;

/// A field that also depends on per-sample data beside x (class labels): `rows` are the indices
/// into the batch given to the solver of the rows that x holds (int64 [b], on x's device), or an
/// undefined tensor when x holds every row in order. It selects its per-sample data with them.
using RowField = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& rows)>;

/// Options shared by every solver (the `sample:` section's solver keys).
struct SolverOptions {
  int64_t steps = 50;        ///< fixed-step solvers: number of steps
  double atol = 1e-5;        ///< adaptive solvers: absolute tolerance
  double rtol = 1e-5;        ///< adaptive solvers: relative tolerance
  int64_t max_steps = 100000;  ///< adaptive solvers: step cap per sample (error when hit)
  bool enable_grad = false;  ///< build an autograd graph through the solve
  static SolverOptions read(config::Node& node);
};

struct SolveResult {
  torch::Tensor x;           ///< state at t1
  int64_t nfe = 0;           ///< batched field evaluations
  int64_t steps = 0;         ///< steps taken (max over samples for adaptive solvers)
  int64_t accepted = 0;      ///< accepted per-sample steps, summed over samples
  int64_t rejected = 0;      ///< rejected per-sample steps, summed over samples
  torch::Tensor accepted_per_sample;  ///< [B] int64 on the CPU: accepted steps of each sample
  torch::Tensor rejected_per_sample;  ///< [B] int64 on the CPU: rejected steps of each sample
  /// Fixed-step solvers inside a CUDA graph capture, where nothing is read back: the first step
  /// (1-based) after which the state was non-finite, -1 if none ([] int64 on x's device), for
  /// the graph's owner to check after each replay (GraphedSolve). Undefined otherwise.
  torch::Tensor first_non_finite_step;
};

class Solver {
 public:
  virtual ~Solver() = default;
  virtual SolveResult integrate(const Field& field, const torch::Tensor& x0, double t0,
                                double t1) const = 0;
  /// integrate() for a field that must know which rows it is given. The default serves the
  /// solvers that always evaluate every row (rows undefined); adaptive solvers override it.
  virtual SolveResult integrate_rows(const RowField& field, const torch::Tensor& x0, double t0, double t1) const;
};

/// The "solvers" family: euler, midpoint, heun, rk4, dopri5.
Registry<Solver>& solver_registry();
void register_builtin_solvers();

/// Builds the solver `name` with `options`; throws Error for an unknown name
/// (listing the known ones) or invalid options.
std::unique_ptr<Solver> make_solver(const std::string& name, const SolverOptions& options);

}  // namespace flowlab::solvers
