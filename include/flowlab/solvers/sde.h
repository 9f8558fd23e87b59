#pragma once
// SDE solvers for dX = f(X, t) dt + g(t) dW, integrated forward in time on a
// uniform grid. Like the ODE solvers they see plain callables, never a network:
// for the generative SDE dX = (b + eps(t) s) dt + sqrt(2 eps(t)) dW the caller
// composes f = b + eps s from one network evaluation and takes g from
// eps_schedule.h. The noise is additive (g depends on t only), which is what
// the generative SDE needs and what stochastic Heun's order relies on.
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "flowlab/core/registry.h"
#include "flowlab/solvers/noise_stream.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {

/// g(t): t [B] (x's dtype) -> [B], one diffusion coefficient per sample.
using Diffusion = std::function<torch::Tensor(const torch::Tensor& t)>;

/// Standard normals [B, ...] shaped like the state, for the next noisy step.
using NoiseSource = std::function<torch::Tensor()>;

/// What the last step does.
enum class FinalStep {
  kNoise,  ///< every step adds noise
  kMean,   ///< the last step adds none: the usual final denoising step
};

/// Options of every SDE solver (the `sample:` section's SDE solver keys).
struct SdeSolverOptions {
  int64_t steps = 100;                    ///< number of uniform steps
  FinalStep final_step = FinalStep::kMean;
  bool enable_grad = false;               ///< build an autograd graph through the solve
  static SdeSolverOptions read(config::Node& node);
};

struct SdeSolveResult {
  torch::Tensor x;    ///< state at t1
  int64_t nfe = 0;    ///< batched drift evaluations
  int64_t steps = 0;  ///< steps taken
};

class SdeSolver {
 public:
  /// Throws Error unless the options are usable (steps >= 1).
  SdeSolver(std::string name, const SdeSolverOptions& options);
  virtual ~SdeSolver() = default;

  /// Integrates from x0 [B, ...] at t0 to t1 > t0 (Error otherwise) with the
  /// per-sample noise of `noise`, which must be shaped like x0.
  SdeSolveResult integrate(const Field& drift, const Diffusion& diffusion, const torch::Tensor& x0, double t0,
                           double t1, NoiseStream& noise) const;

  /// The same with any noise source, called once per step that adds noise
  /// (every step, or all but the last with FinalStep::kMean).
  SdeSolveResult integrate(const Field& drift, const Diffusion& diffusion, const torch::Tensor& x0, double t0,
                           double t1, const NoiseSource& noise) const;

  const std::string& name() const { return name_; }
  const SdeSolverOptions& options() const { return options_; }

 protected:
  /// One step of x [B, ...] from t_start to t_end: the drift part plus
  /// g sqrt(h) xi, with no noise when `xi` is undefined. Adds its drift
  /// evaluations to `nfe`.
  virtual torch::Tensor step(const Field& drift, const Diffusion& diffusion, const torch::Tensor& x,
                             double t_start, double t_end, const torch::Tensor& xi, int64_t& nfe) const = 0;

 private:
  std::string name_;
  SdeSolverOptions options_;
};

/// The "sde_solvers" family:
///  - euler_maruyama: x' = x + f(x, t) h + g(t) sqrt(h) xi (weak order 1).
///  - stochastic_heun: predictor x~ = x + f(x, t) h + g sqrt(h) xi, corrector
///    x' = x + (f(x, t) + f(x~, t + h)) h / 2 + g sqrt(h) xi with the same xi and
///    g = sqrt((g(t)^2 + g(t + h)^2) / 2): g^2 h is then the trapezoid rule for
///    the exact increment's variance int g^2 dt, which keeps weak order 2 for
///    linear drift when g varies in time (g(t) alone would give order 1).
Registry<SdeSolver>& sde_solver_registry();
void register_builtin_sde_solvers();

/// Builds the SDE solver `name` with `options`; throws Error for an unknown
/// name (listing the known ones) or invalid options.
std::unique_ptr<SdeSolver> make_sde_solver(const std::string& name, const SdeSolverOptions& options);

}  // namespace flowlab::solvers
