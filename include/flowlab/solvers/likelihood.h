#pragma once
// Log-likelihood of data under a flow dX/dt = b(X, t) by the instantaneous
// change of variables, integrated backward from the data time to the source time:
//
//   log rho_{t_start}(x) = log rho_{t_end}(X_{t_end}) + int_{t_start}^{t_end} div b(X_t, t) dt,
//
// with X_{t_start} = x. With the defaults t_start = 1 (data) and t_end = 0
// (source) this is log rho1(x) = log rho0(X0) - int_0^1 div b dt.
//
// The state and the divergence integrals are one augmented ODE [B, d + k]
// (plus one row-tag column for Hutchinson probes) solved by any registered
// solver, so adaptive solvers control the error of the integrals per sample
// too. The divergence is taken over every non-batch dimension of x.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {

/// log rho(x) for x [B, ...] -> [B]: the density at the end of the backward solve.
using LogDensity = std::function<torch::Tensor(const torch::Tensor& x)>;

/// How the likelihood is computed (a `likelihood:` section's keys).
struct LikelihoodOptions {
  /// "exact": the trace of the Jacobian by d vector-Jacobian products per field
  /// evaluation (cost grows with d). "hutchinson": eps^T J eps with `probes`
  /// probe vectors per sample, drawn once and kept fixed along the trajectory,
  /// which makes the integral estimate unbiased; one product per probe.
  std::string divergence = "exact";
  int64_t probes = 1;                 ///< hutchinson: probes per sample (>= 1)
  std::string probe = "rademacher";   ///< hutchinson: "rademacher" (+-1) or "gaussian"
  std::string solver = "dopri5";      ///< any name make_solver() knows
  SolverOptions solver_options;       ///< enable_grad is ignored: the result is never differentiable
  double t_start = 1.0;               ///< time of the data x; a field singular there clips t itself
  double t_end = 0.0;                 ///< time of the source density

  /// Reads divergence, probes, probe, solver, the solver keys (steps, atol,
  /// rtol, max_steps), t_start and t_end. Errors are ConfigErrors naming the key.
  static LikelihoodOptions read(config::Node& node);
};

/// The divergence estimators and probe distributions LikelihoodOptions accepts.
const std::vector<std::string>& divergence_estimators();
const std::vector<std::string>& probe_distributions();

struct LogLikelihood {
  /// [B] float64 on x's device: log rho_{t_start}(x) in nats. For Hutchinson, the
  /// estimate averaged over the probes.
  torch::Tensor log_prob;
  /// [B] float64: standard error of the Hutchinson estimate (standard deviation
  /// over the probes / sqrt(probes)). Exactly 0 for exact divergence; NaN with a
  /// single probe, where the spread cannot be estimated.
  torch::Tensor std_error;
  /// [B] float64: int_{t_start}^{t_end} div b dt (averaged over probes), so
  /// log_prob = source log-density + divergence_integral.
  torch::Tensor divergence_integral;
  /// [B, ...] in x's dtype and shape: X_{t_end}, the point the source density saw.
  torch::Tensor source_point;
  /// Batched field evaluations; each costs one forward pass of the velocity plus
  /// d (exact) or `probes` (hutchinson) vector-Jacobian products.
  int64_t nfe = 0;
};

/// log rho_{t_start}(x) for x [B, ...] under the flow of `velocity`, starting
/// from `source_log_prob` at t_end. `velocity` is called under autograd (even
/// inside a NoGradGuard or InferenceMode) on x's dtype and device, and must
/// treat rows independently: adaptive solvers call it on the still-active rows.
/// Hutchinson probes are drawn from `gen` (a CPU generator) before solving;
/// exact divergence does not use it. The returned tensors carry no autograd
/// graph. Throws Error for invalid options or a failed solve.
LogLikelihood log_likelihood(const Field& velocity, const LogDensity& source_log_prob, const torch::Tensor& x,
                             const LikelihoodOptions& options, at::Generator& gen);

/// log_likelihood for a velocity that depends on per-sample data (class labels): it is told which
/// rows of x it is given (solver.h, RowField).
LogLikelihood log_likelihood(const RowField& velocity, const LogDensity& source_log_prob, const torch::Tensor& x,
                             const LikelihoodOptions& options, at::Generator& gen);

/// log N(x; 0, I) summed over the non-batch dimensions: x [B, ...] -> [B] float64.
torch::Tensor standard_normal_log_prob(const torch::Tensor& x);

/// Converts nats over `dim` dimensions to bits per dimension: nats / (dim ln 2).
/// Pass a negative log-likelihood to get the usual NLL in bits/dim.
double bits_per_dim(double nats, int64_t dim);

}  // namespace flowlab::solvers
