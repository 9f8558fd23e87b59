#pragma once
// Entropic optimal transport by log-domain Sinkhorn iterations, and the debiased
// Sinkhorn divergence.
#include <torch/types.h>

#include <cstdint>
#include <limits>
#include <string>

#include "flowlab/ot/ground_cost.h"

namespace flowlab::ot {

/// Which number a Sinkhorn problem reports as its value. All three come from the
/// same plan P (the minimiser is the same for every convention):
///   transport: <P, C>                          POT's sinkhorn2 ("without the entropic term")
///   kl:        <P, C> + eps KL(P | a (x) b)     GeomLoss's OT_eps, OTT's reg_ot_cost
///   entropy:   <P, C> + eps sum P log P         POT's objective, OTT's ent_reg_cost
/// kl is computed as the dual value <a, f> + <b, g> and entropy as
/// kl - eps (H(a) + H(b)), with H(a) = -sum a log a.
enum class SinkhornValue { transport, kl, entropy };

SinkhornValue parse_sinkhorn_value(const std::string& name);  ///< "transport", "kl", "entropy"
std::string sinkhorn_value_name(SinkhornValue value);

struct SinkhornOptions {
  GroundCost cost = GroundCost::squared_euclidean;
  /// Regularisation strength eps > 0, in the units of the cost (POT's reg;
  /// GeomLoss's blur^p; OTT's epsilon with scale_cost = 1).
  double eps = 0.05;
  /// Epsilon annealing: eps_start, eps_start * scaling, ... down to eps, each
  /// stage warm-started from the last. scaling = 1 turns annealing off (plain
  /// Sinkhorn from zero potentials, POT's iterates exactly).
  double eps_scaling = 0.5;
  /// First eps of the annealing; 0 = the largest entry of the cost matrix.
  double eps_start = 0.0;
  /// Stop when the marginal error sum_j |(P^T 1)_j - b_j| (the rows are exact
  /// after every update) falls below this, per problem of the batch.
  double tolerance = 1e-6;
  /// Over-relaxation w of the final stage's updates f <- (1 - w) f + w T(g):
  /// 0 = adaptive (from the observed rate; falls back to 1 if the error grows),
  /// 1 = plain Sinkhorn (POT's iterates), else a fixed w in (0, 2).
  double relaxation = 0.0;
  /// Cap on updates over all stages.
  int64_t max_iterations = 10000;
  /// Column block of the cost for problems too large to hold: 0 = automatic
  /// (the whole matrix up to 2^27 entries per batch, else 4096-column blocks);
  /// k > 0 forces blocks of k columns and O(n k) memory.
  int64_t block_columns = 0;
  bool return_plan = false;  ///< fill SinkhornResult::plan (needs the whole matrix)
  /// Compute SinkhornReport::value_error_bound even for a converged run (it is always computed for a
  /// finite run that did not converge). Costs three passes over the plan.
  bool certify = false;
};

struct SinkhornReport {
  int64_t iterations = 0;      ///< updates over all stages
  int64_t stages = 0;          ///< eps values visited
  double marginal_error = 0;   ///< largest over the batch, at the returned potentials
  bool converged = false;      ///< marginal_error <= tolerance at the final eps
  bool finite = true;          ///< false when the iterates overflowed (the last finite ones are returned)
  /// Certified bound on |kl_value - OT_eps| (and on |entropy_value - its optimum|, which differs by a
  /// constant), largest over the batch: OT_eps lies between the dual value of the potentials and the
  /// primal value of a feasible rounding of their plan (Altschuler et al. 2017). NaN when not computed
  /// (a converged run without SinkhornOptions::certify, or one that overflowed). It does not bound
  /// transport_cost.
  double value_error_bound = std::numeric_limits<double>::quiet_NaN();
  std::string summary() const; ///< one line for logs and errors
};

/// Dual potentials and values of min_P <P, C> + eps KL(P | a (x) b) over couplings
/// of a and b. The plan is P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps).
struct SinkhornResult {
  torch::Tensor f;               ///< [B, n] (or [n] for unbatched input)
  torch::Tensor g;               ///< [B, m]
  torch::Tensor plan;            ///< [B, n, m] when requested
  torch::Tensor transport_cost;  ///< [B]: <P, C> (no gradient)
  torch::Tensor kl_value;        ///< [B]: differentiable (envelope theorem)
  torch::Tensor entropy_value;   ///< [B]: differentiable
  SinkhornReport report;
  /// The value in a given convention.
  const torch::Tensor& value(SinkhornValue kind) const;
};

/// Sinkhorn between x [n, d] or [B, n, d] and y [m, d] or [B, m, d] with weights
/// a [n] / [B, n] and b [m] / [B, m] (undefined tensors = uniform; each must sum
/// to 1). Runs in x's dtype and on x's device. The f-update and g-update
/// alternate, g first, as POT's sinkhorn_log (with relaxation 1 and
/// eps_scaling 1 the iterates are POT's).
///
/// Gradients (when x, y, a or b require them) are not taken through the
/// iterations: kl_value and entropy_value carry the envelope-theorem gradient
/// d/dx = sum_j P_ij grad_x c(x_i, y_j), d/da = f (exact at convergence).
SinkhornResult sinkhorn(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a,
                        const torch::Tensor& b, const SinkhornOptions& options);

/// The same for a given cost matrix C [n, m] or [B, n, m] (finite), e.g. one
/// with forbidden pairs; always returns the plan; no gradients.
SinkhornResult sinkhorn_on_costs(const torch::Tensor& cost, const torch::Tensor& a, const torch::Tensor& b,
                                 const SinkhornOptions& options);

/// OT_eps(a, a) between a cloud and itself, by the symmetric averaged update
/// f <- (f + T(f)) / 2 (fast and stable) at the final eps (no annealing: the
/// plan is near the diagonal at any eps). f = g; the plan is symmetric.
SinkhornResult sinkhorn_self(const torch::Tensor& x, const torch::Tensor& a, const SinkhornOptions& options);

struct SinkhornDivergence {
  torch::Tensor value;  ///< [B] (or scalar): W(a, b) - W(a, a)/2 - W(b, b)/2
  SinkhornValue kind = SinkhornValue::kl;  ///< which W
  SinkhornResult cross, self_x, self_y;
  bool converged() const;
  /// Certified bound on |value - the divergence at eps| for the kl and entropy values: the cross bound
  /// plus half of each self bound. NaN when one of them is not computed, and for the transport value.
  double value_error_bound() const;
  /// Whether the value can be reported: converged, or (for the kl and entropy values) certified within
  /// relative_tolerance x |value| for every problem of the batch. Small eps in high dimension can keep
  /// the marginal error above its tolerance for thousands of updates while the value is already exact
  /// to many digits; the certificate says so.
  bool accepted(double relative_tolerance) const;
  std::string summary() const;
};

/// The debiased Sinkhorn divergence S = W(a, b) - (W(a, a) + W(b, b)) / 2 with W
/// the chosen value. With value kl it is >= 0, zero only when a = b, and
/// differentiable (envelope theorem); with transport it is POT's
/// empirical_sinkhorn_divergence before its max(0, .) and has no gradient.
/// When the cross problem does not converge, the self problems are certified too, so that
/// value_error_bound() is defined.
SinkhornDivergence sinkhorn_divergence(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a,
                                       const torch::Tensor& b, const SinkhornOptions& options,
                                       SinkhornValue value = SinkhornValue::kl);

}  // namespace flowlab::ot
