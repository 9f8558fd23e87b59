#include "flowlab/ot/sinkhorn.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "sinkhorn_softmin.h"

namespace flowlab::ot {
namespace {

// Intermediate eps stages only need a warm start for the next one.
constexpr double kStageTolerance = 1e-2;

struct Problem {
  torch::Tensor x, y;          // [B, n, d], [B, m, d], detached
  torch::Tensor log_a, log_b;  // [B, n], [B, m]
  torch::Tensor a, b;          // their exponentials, for the per-update error
  bool batched = true;
};

torch::Tensor as_points(const torch::Tensor& p, const char* name) {
  TORCH_CHECK(p.defined() && (p.dim() == 2 || p.dim() == 3), "sinkhorn: ", name,
              " must be points [n, d] or [B, n, d], got ", p.defined() ? p.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(p.is_floating_point(), "sinkhorn: ", name, " must be floating point");
  TORCH_CHECK(p.size(-2) >= 1 && p.size(-1) >= 1, "sinkhorn: ", name, " has no points: ", p.sizes());
  return p.dim() == 2 ? p.unsqueeze(0) : p;
}

torch::Tensor log_weights(const torch::Tensor& w, int64_t batch, int64_t n, const torch::TensorOptions& options,
                          const char* name) {
  if (!w.defined()) return torch::full({batch, n}, -std::log(static_cast<double>(n)), options);
  torch::Tensor v = w.detach().to(options);
  if (v.dim() == 1) v = v.unsqueeze(0).expand({batch, n});
  TORCH_CHECK(v.dim() == 2 && v.size(0) == batch && v.size(1) == n, "sinkhorn: weights ", name, " of shape ",
              w.sizes(), " do not match ", n, " points (batch ", batch, ")");
  TORCH_CHECK(torch::isfinite(v).all().item<bool>() && (v >= 0).all().item<bool>(), "sinkhorn: weights ", name,
              " must be finite and >= 0");
  const double worst = (v.sum(1) - 1).abs().max().item<double>();
  TORCH_CHECK(worst <= 1e-5, "sinkhorn: weights ", name, " must sum to 1 (off by ", worst, ")");
  return v.log();
}

Problem make_problem(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a,
                     const torch::Tensor& b) {
  Problem p;
  p.batched = x.dim() == 3;
  p.x = as_points(x, "x").detach();
  p.y = as_points(y, "y").detach().to(p.x.options());
  TORCH_CHECK(p.x.size(0) == p.y.size(0) && p.x.size(2) == p.y.size(2), "sinkhorn: x ", x.sizes(), " and y ",
              y.sizes(), " differ in batch size or dimension");
  const int64_t batch = p.x.size(0);
  p.log_a = log_weights(a, batch, p.x.size(1), p.x.options(), "a");
  p.log_b = log_weights(b, batch, p.y.size(1), p.x.options(), "b");
  p.a = p.log_a.exp();
  p.b = p.log_b.exp();
  return p;
}

// eps_start, eps_start * scaling, ..., eps (GeomLoss's epsilon schedule). The
// automatic start is the largest cost: beyond it the plan is the product
// coupling and nothing is gained (a bounding-box diameter overshoots in high d).
std::vector<double> eps_schedule(const detail::CostBlocks& costs, const SinkhornOptions& o) {
  double start = o.eps_start;
  if (start <= 0 && o.eps_scaling < 1) {
    for (int64_t k = 0; k < costs.count(); ++k) start = std::max(start, costs.block(k).max().item<double>());
  }
  std::vector<double> stages;
  if (o.eps_scaling < 1) {
    // A stage within sqrt(scaling) of eps is skipped: it would cost a kernel pass for a warm start
    // barely better than the one before it.
    const double last = o.eps / std::sqrt(o.eps_scaling);
    for (double e = start; e > last; e *= o.eps_scaling) stages.push_back(e);
  }
  stages.push_back(o.eps);
  return stages;
}

void check_options(const SinkhornOptions& o) {
  TORCH_CHECK(std::isfinite(o.eps) && o.eps > 0, "sinkhorn: eps must be > 0, got ", o.eps);
  TORCH_CHECK(o.eps_scaling > 0 && o.eps_scaling <= 1, "sinkhorn: eps_scaling must be in (0, 1], got ",
              o.eps_scaling);
  TORCH_CHECK(std::isfinite(o.eps_start) && o.eps_start >= 0, "sinkhorn: eps_start must be >= 0");
  TORCH_CHECK(o.tolerance >= 0, "sinkhorn: tolerance must be >= 0, got ", o.tolerance);
  TORCH_CHECK(o.relaxation == 0 || (o.relaxation > 0 && o.relaxation < 2),
              "sinkhorn: relaxation must be 0 (adaptive) or in (0, 2), got ", o.relaxation);
  TORCH_CHECK(o.max_iterations >= 1, "sinkhorn: max_iterations must be >= 1, got ", o.max_iterations);
}

// sum_j w_j |exp((g_j - g_new_j) / eps) - 1|: the marginal error of the plan of
// (f, g) on the side of g, given g_new = the update of g from f. Largest over the batch.
double marginal_error(const torch::Tensor& w, const torch::Tensor& g, const torch::Tensor& g_new, double eps) {
  return (w * torch::expm1((g - g_new) / eps).abs()).sum(1).max().item<double>();
}


// A certified bound on |<a, f> + <b, g> - OT_eps| per problem [B], in float64. Weak duality gives
// D = <a, f> + <b, g> - eps (sum P - 1) <= OT_eps for any potentials; any coupling Q of a and b gives
// OT_eps <= <Q, C> + eps KL(Q | a b^T). Q rounds the plan P of (f, g) onto the couplings (Altschuler,
// Weed & Rigollet 2017): rows scaled down to a, then columns down to b, then the missing mass
// added as the outer product of the deficits. Three passes over the plan's blocks.
torch::Tensor certified_bound(const Problem& p, const detail::CostBlocks& costs, const detail::Softmin& softmin,
                              const torch::Tensor& f, const torch::Tensor& g, const torch::Tensor& rows) {
  const auto f64 = [](const torch::Tensor& t) { return t.to(torch::kFloat64); };
  const double eps = softmin.eps();
  const torch::Tensor a = f64(p.log_a).exp(), b = f64(p.log_b).exp();
  const torch::Tensor log_ab_rows = f64(p.log_a).unsqueeze(2);
  const auto plan = [&](int64_t k) { return f64(softmin.log_plan_block(f, g, k)).exp(); };
  const auto down_to = [](const torch::Tensor& target, const torch::Tensor& sums) {
    return torch::where(sums > target, target / sums, torch::ones_like(sums));
  };
  const torch::Tensor row_scale = down_to(a, rows).unsqueeze(2);
  std::vector<torch::Tensor> scaled_columns;
  for (int64_t k = 0; k < costs.count(); ++k) scaled_columns.push_back((row_scale * plan(k)).sum(1));
  const torch::Tensor columns1 = torch::cat(scaled_columns, 1);
  const torch::Tensor column_scale = down_to(b, columns1);
  torch::Tensor rows2 = torch::zeros_like(a);
  for (int64_t k = 0; k < costs.count(); ++k) {
    const torch::Tensor scale = column_scale.narrow(1, costs.start(k), costs.width(k)).unsqueeze(1);
    rows2 += (row_scale * plan(k) * scale).sum(2);
  }
  const torch::Tensor deficit_a = (a - rows2).clamp_min(0), deficit_b = (b - column_scale * columns1).clamp_min(0);
  const torch::Tensor missing = deficit_a.sum(1, true);
  const torch::Tensor spread_a = torch::where(missing > 0, deficit_a / missing, torch::zeros_like(deficit_a));
  torch::Tensor primal = torch::zeros({a.size(0)}, a.options());
  for (int64_t k = 0; k < costs.count(); ++k) {
    const auto cols = [&](const torch::Tensor& t) { return t.narrow(1, costs.start(k), costs.width(k)).unsqueeze(1); };
    const torch::Tensor q = row_scale * plan(k) * cols(column_scale) + spread_a.unsqueeze(2) * cols(deficit_b);
    // Q log(Q / (a b)), with 0 log 0 = 0 (also where a weight is 0).
    const torch::Tensor log_ratio = q.log() - log_ab_rows - cols(f64(p.log_b));
    const torch::Tensor entropy = torch::where(q > 0, q * log_ratio, torch::zeros_like(q));
    primal += (q * f64(costs.block(k))).sum({1, 2}) + eps * entropy.sum({1, 2});
  }
  const torch::Tensor value = (a * f64(f)).sum(1) + (b * f64(g)).sum(1);
  const torch::Tensor dual = value - eps * (rows.sum(1) - 1);
  return torch::maximum(primal - value, value - dual);
}

// Everything after the iterations: values, plan, gradients.
void finish(SinkhornResult& r, const Problem& p, const detail::CostBlocks& costs, const detail::Softmin& softmin,
            const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a, const torch::Tensor& b,
            const SinkhornOptions& o, bool self, bool grad_mode) {
  const double eps = softmin.eps();
  torch::AutoGradMode mode(grad_mode);
  detail::PlanSums sums;
  if (o.return_plan || !softmin.kernel_plan_sums(r.f, r.g, sums)) {
    // The plan itself, block by block.
    sums.transport = torch::zeros({r.f.size(0)}, r.f.options());
    sums.rows = torch::zeros({r.f.size(0), r.f.size(1)}, r.f.options().dtype(torch::kFloat64));
    std::vector<torch::Tensor> plan_blocks, column_sums;
    for (int64_t k = 0; k < costs.count(); ++k) {
      const torch::Tensor plan = softmin.log_plan_block(r.f, r.g, k).exp();
      sums.transport += (plan * costs.block(k)).sum({1, 2});
      const torch::Tensor plan64 = plan.to(torch::kFloat64);
      sums.rows += plan64.sum(2);
      column_sums.push_back(plan64.sum(1));
      if (o.return_plan) plan_blocks.push_back(plan);
    }
    if (o.return_plan) r.plan = torch::cat(plan_blocks, 2);
    sums.columns = torch::cat(column_sums, 1);
  }
  r.transport_cost = sums.transport.to(r.f.scalar_type());
  // The error of the plan as it is returned: with rounding in f + g - C (float32
  // at small eps) it can be worse than the iterations' own estimate.
  const auto l1 = [](const torch::Tensor& sums, const torch::Tensor& log_w) {
    return (sums - log_w.to(torch::kFloat64).exp()).abs().sum(1).max().item<double>();
  };
  const double explicit_error = std::max(l1(sums.rows, p.log_a), l1(sums.columns, p.log_b));
  if (r.report.finite) r.report.marginal_error = std::max(r.report.marginal_error, explicit_error);
  r.report.converged = r.report.finite && r.report.marginal_error <= o.tolerance;
  if (r.report.finite && (o.certify || !r.report.converged)) {
    r.report.value_error_bound = certified_bound(p, costs, softmin, r.f, r.g, sums.rows).max().item<double>();
  }
  torch::Tensor kl = (p.log_a.exp() * r.f).sum(1) + (p.log_b.exp() * r.g).sum(1);

  // Envelope theorem: dOT/dC_ij = P_ij, dOT/da = f, dOT/db = g. Attached per
  // problem with a first-order surrogate v + <grad, z> - <grad, z>.detach().
  const auto wants = [](const torch::Tensor& t) { return t.defined() && t.requires_grad(); };
  if (grad_mode && (wants(x) || wants(y) || wants(a) || wants(b))) {
    const torch::Tensor xl = p.x.clone().requires_grad_(true);
    const torch::Tensor yl = self ? xl : p.y.clone().requires_grad_(true);
    torch::Tensor gx = torch::zeros_like(p.x), gy = torch::zeros_like(p.y);
    for (int64_t k = 0; k < costs.count(); ++k) {
      const torch::Tensor plan = softmin.log_plan_block(r.f, r.g, k).exp();
      const torch::Tensor c = cost_matrix(xl, yl.narrow(1, costs.start(k), costs.width(k)), o.cost);
      // For a cloud with itself both slots of c move with x.
      const auto grads = torch::autograd::grad({(plan * c).sum()}, self ? std::vector<torch::Tensor>{xl}
                                                                          : std::vector<torch::Tensor>{xl, yl});
      gx += grads[0];
      if (!self) gy += grads[1];
    }
    // A shared (unbatched) input broadcasts against the per-problem gradient.
    const auto attach = [&kl, &wants](const torch::Tensor& input, const torch::Tensor& grad) {
      if (!wants(input)) return;
      const torch::Tensor inner = (input * grad).flatten(1).sum(1);
      kl = kl + (inner - inner.detach());
    };
    attach(x, gx);
    attach(a, self ? 2 * r.f : r.f);
    if (!self) {
      attach(y, gy);
      attach(b, r.g);
    }
  }
  r.kl_value = kl;
  const auto entropy = [&](const torch::Tensor& w, const torch::Tensor& log_w) {
    // sum w log w, differentiable in w when w is given.
    if (!w.defined()) return (log_w.exp() * log_w).sum(1);
    const torch::Tensor v = w.to(r.f.options());
    const torch::Tensor s = torch::xlogy(v, v).sum(-1);
    return v.dim() == 1 ? s.expand({r.f.size(0)}) : s;
  };
  r.entropy_value = r.kl_value + eps * (entropy(a, p.log_a) + (self ? entropy(a, p.log_a) : entropy(b, p.log_b)));
  if (!p.batched) {
    r.f = r.f.squeeze(0);
    r.g = r.g.squeeze(0);
    if (r.plan.defined()) r.plan = r.plan.squeeze(0);
    r.transport_cost = r.transport_cost.squeeze(0);
    r.kl_value = r.kl_value.squeeze(0);
    r.entropy_value = r.entropy_value.squeeze(0);
  }
}


// Runs the eps stages. propose(measure) computes the next update and, when
// measure, the marginal error of the potentials it would settle on (NaN: not
// finite); commit() completes the update (false: not finite); settle() keeps the
// measured potentials when their error is within the stage's tolerance. Stops
// everything at max_iterations.
template <class Restart, class Propose, class Commit, class Settle>
void iterate(const std::vector<double>& stages, const SinkhornOptions& o, Restart&& restart, Propose&& propose,
             Commit&& commit, Settle&& settle, SinkhornReport& report) {
  bool measured_at_final = false;
  for (size_t s = 0; s < stages.size(); ++s) {
    const bool last = s + 1 == stages.size();
    const double tolerance = last ? o.tolerance : std::max(o.tolerance, kStageTolerance);
    restart(stages[s]);
    ++report.stages;
    bool updated = false;  // the error means something once this eps has updated the potentials
    while (true) {
      const double error = propose(updated);
      if (std::isnan(error)) {
        report.finite = false;
        break;
      }
      if (updated) {
        report.marginal_error = error;
        measured_at_final = last;
        if (error <= tolerance) {
          settle();
          break;
        }
      }
      if (report.iterations >= o.max_iterations) break;
      if (!commit()) {
        report.finite = false;
        break;
      }
      updated = true;
      measured_at_final = false;
      ++report.iterations;
    }
    if (!report.finite || report.iterations >= o.max_iterations) break;
  }
  if (!measured_at_final) {
    // Cut short before or within the final stage: the error at the final eps.
    restart(o.eps);
    const double error = report.finite ? propose(true) : std::numeric_limits<double>::quiet_NaN();
    report.marginal_error = std::isnan(error) ? std::numeric_limits<double>::infinity() : error;
  }
  report.converged = report.finite && report.marginal_error <= o.tolerance;
}

}  // namespace

SinkhornValue parse_sinkhorn_value(const std::string& name) {
  if (name == "transport") return SinkhornValue::transport;
  if (name == "kl") return SinkhornValue::kl;
  if (name == "entropy") return SinkhornValue::entropy;
  throw std::invalid_argument("unknown Sinkhorn value '" + name + "' (known: transport, kl, entropy)");
}

std::string sinkhorn_value_name(SinkhornValue value) {
  switch (value) {
    case SinkhornValue::transport: return "transport";
    case SinkhornValue::kl: return "kl";
    case SinkhornValue::entropy: return "entropy";
  }
  return "?";
}

std::string SinkhornReport::summary() const {
  std::ostringstream out;
  out << (converged ? "converged" : "NOT converged") << " after " << iterations << " iterations (" << stages
      << " eps stage" << (stages == 1 ? "" : "s") << "), marginal error " << marginal_error;
  if (!finite) out << "; the iterates overflowed (raise eps or use float64)";
  if (!converged && std::isfinite(value_error_bound)) out << "; value certified within " << value_error_bound;
  return out.str();
}

const torch::Tensor& SinkhornResult::value(SinkhornValue kind) const {
  switch (kind) {
    case SinkhornValue::transport: return transport_cost;
    case SinkhornValue::kl: return kl_value;
    case SinkhornValue::entropy: return entropy_value;
  }
  return kl_value;
}

namespace {

// Alternating updates, g first (POT's order), over-relaxed in the final stage:
//   g' = (1 - w) g + w cols(f),   f' = (1 - w) f + w rows(g')
// (Thibault et al. 2017; w = 1 is plain Sinkhorn). Whatever w, the marginals of
// the plan of (f, g') are read off the two half-steps, so the error is exact:
// columns sum_j b_j |exp((g'_j - cols(f)_j) / eps) - 1|, rows likewise with rows(g').
// With options.relaxation = 0, w starts at 1 and every kSpan updates moves up to
// 2 / (1 + sqrt(1 - rho)), the SOR optimum for plain Sinkhorn's rate rho, which is
// inferred from the observed rate; should the error grow, w falls back to 1 for
// good. (About 4x fewer updates than plain Sinkhorn at small eps.)
void solve_cross(SinkhornResult& r, const Problem& p, const detail::CostBlocks& costs, detail::Softmin& softmin,
                 const SinkhornOptions& options) {
  r.f = torch::zeros({p.log_a.size(0), p.log_a.size(1)}, p.log_a.options());
  r.g = torch::zeros({p.log_b.size(0), p.log_b.size(1)}, p.log_a.options());
  const bool adaptive = options.relaxation == 0;
  double w = adaptive ? 1.0 : options.relaxation;
  bool final_stage = false, gave_up = false;
  std::vector<double> errors;  // of this stage
  torch::Tensor g_relaxed, f_new;
  const auto relax = [&w](const torch::Tensor& old, const torch::Tensor& update) {
    return w == 1.0 ? update : (1 - w) * old + w * update;
  };
  const auto propose = [&](bool measure) {
    const torch::Tensor g_update = softmin.cols(r.f);
    if (!softmin.finite()) return std::numeric_limits<double>::quiet_NaN();
    g_relaxed = relax(r.g, g_update);
    f_new = softmin.rows(g_relaxed);
    if (!softmin.finite()) return std::numeric_limits<double>::quiet_NaN();
    if (!measure) return std::numeric_limits<double>::infinity();
    const double error = std::max(marginal_error(p.b, g_relaxed, g_update, softmin.eps()),
                                  marginal_error(p.a, r.f, f_new, softmin.eps()));
    errors.push_back(error);
    const size_t k = errors.size();
    constexpr size_t kSpan = 4;
    constexpr double kMaxRelaxation = 1.95;
    if (adaptive && final_stage && !gave_up && k > kSpan && errors[k - 1 - kSpan] > 0 && error > 0) {
      // The rate over the last kSpan updates, lambda, gives plain Sinkhorn's
      // rate rho through SOR's relation (lambda + w - 1)^2 = lambda w^2 rho;
      // w then moves (up only) to the optimum for that rho.
      const double lambda = std::pow(error / errors[k - 1 - kSpan], 1.0 / kSpan);
      if (lambda > 2.0) {
        w = 1.0;  // growing: back to plain Sinkhorn for good
        gave_up = true;
      } else if (k % kSpan == 0 && k >= 2 * kSpan && lambda < 1) {
        const double rho = std::min(1.0, (lambda + w - 1) * (lambda + w - 1) / (lambda * w * w));
        w = std::max(w, std::min(kMaxRelaxation, 2.0 / (1.0 + std::sqrt(1.0 - rho))));
      }
    }
    return error;
  };
  const auto commit = [&] {
    r.f = relax(r.f, f_new);
    r.g = g_relaxed;
    return true;  // a combination of finite potentials (w < 2)
  };
  const auto settle = [&] { r.g = g_relaxed; };
  const auto restart = [&](double eps) {
    softmin.set_eps(eps, r.f, r.g);
    final_stage = eps == options.eps;
    errors.clear();
    if (adaptive) w = 1.0;
  };
  iterate(eps_schedule(costs, options), options, restart, propose, commit, settle, r.report);
}

}  // namespace

SinkhornResult sinkhorn(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a,
                        const torch::Tensor& b, const SinkhornOptions& options) {
  check_options(options);
  const bool grad_mode = torch::GradMode::is_enabled();
  torch::NoGradGuard no_grad;
  const Problem p = make_problem(x, y, a, b);
  TORCH_CHECK(!options.return_plan || options.block_columns <= 0 || options.block_columns >= p.y.size(1),
              "sinkhorn: return_plan needs the whole cost matrix; block_columns must be 0");
  const detail::CostBlocks costs(p.x, p.y, options.cost,
                                 options.return_plan ? p.y.size(1) : options.block_columns);
  detail::Softmin softmin(costs, p.log_a, p.log_b);
  SinkhornResult r;
  solve_cross(r, p, costs, softmin, options);
  finish(r, p, costs, softmin, x, y, a, b, options, false, grad_mode);
  return r;
}

SinkhornResult sinkhorn_on_costs(const torch::Tensor& cost, const torch::Tensor& a, const torch::Tensor& b,
                                 const SinkhornOptions& options) {
  check_options(options);
  TORCH_CHECK(cost.defined() && (cost.dim() == 2 || cost.dim() == 3) && cost.is_floating_point(),
              "sinkhorn_on_costs: expected a floating-point cost [n, m] or [B, n, m], got ",
              cost.defined() ? cost.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(torch::isfinite(cost).all().item<bool>(), "sinkhorn_on_costs: the cost has non-finite entries");
  torch::NoGradGuard no_grad;
  const torch::Tensor c = (cost.dim() == 2 ? cost.unsqueeze(0) : cost).detach();
  Problem p;
  p.batched = cost.dim() == 3;
  p.log_a = log_weights(a, c.size(0), c.size(1), c.options(), "a");
  p.log_b = log_weights(b, c.size(0), c.size(2), c.options(), "b");
  p.a = p.log_a.exp();
  p.b = p.log_b.exp();
  const detail::CostBlocks costs(c);
  detail::Softmin softmin(costs, p.log_a, p.log_b);
  SinkhornOptions o = options;
  o.return_plan = true;
  SinkhornResult r;
  solve_cross(r, p, costs, softmin, o);
  finish(r, p, costs, softmin, {}, {}, {}, {}, o, false, false);
  return r;
}

SinkhornResult sinkhorn_self(const torch::Tensor& x, const torch::Tensor& a, const SinkhornOptions& options) {
  check_options(options);
  const bool grad_mode = torch::GradMode::is_enabled();
  torch::NoGradGuard no_grad;
  const Problem p = make_problem(x, x, a, a);
  const detail::CostBlocks costs(p.x, p.x, options.cost,
                                 options.return_plan ? p.x.size(1) : options.block_columns);
  detail::Softmin softmin(costs, p.log_a, p.log_a);
  SinkhornResult r;
  r.f = torch::zeros({p.x.size(0), p.x.size(1)}, p.x.options());
  bool started = false;
  torch::Tensor f_new;
  // The averaged update f <- (f + T(f)) / 2 keeps the iterates symmetric and
  // does not oscillate (Feydy et al. 2019); the first one is a plain update.
  const auto propose = [&](bool measure) {
    f_new = softmin.rows(r.f);
    if (!softmin.finite()) return std::numeric_limits<double>::quiet_NaN();
    return measure ? marginal_error(p.a, r.f, f_new, softmin.eps()) : std::numeric_limits<double>::infinity();
  };
  const auto commit = [&] {
    r.f = started ? 0.5 * (r.f + f_new) : f_new;
    started = true;
    return true;
  };
  const auto restart = [&](double eps) { softmin.set_eps(eps, r.f, r.f); };
  // No annealing: a cloud's plan with itself is close to the diagonal at any eps,
  // which the averaged update reaches in a few steps, and each stage costs a pass
  // over the kernel.
  SinkhornOptions single_stage = options;
  single_stage.eps_scaling = 1.0;
  iterate(eps_schedule(costs, single_stage), single_stage, restart, propose, commit, [] {}, r.report);
  r.g = r.f;
  finish(r, p, costs, softmin, x, x, a, a, options, true, grad_mode);
  r.g = r.f;
  return r;
}

bool SinkhornDivergence::converged() const {
  return cross.report.converged && self_x.report.converged && self_y.report.converged;
}

double SinkhornDivergence::value_error_bound() const {
  if (kind == SinkhornValue::transport) return std::numeric_limits<double>::quiet_NaN();
  return cross.report.value_error_bound +
         0.5 * (self_x.report.value_error_bound + self_y.report.value_error_bound);  // NaN if one is
}

bool SinkhornDivergence::accepted(double relative_tolerance) const {
  // value_error_bound() is NaN (compares false) unless every problem was finite and certified.
  return converged() || value_error_bound() <= relative_tolerance * value.abs().min().item<double>();
}

std::string SinkhornDivergence::summary() const {
  return "cross: " + cross.report.summary() + "; x-x: " + self_x.report.summary() +
         "; y-y: " + self_y.report.summary();
}

SinkhornDivergence sinkhorn_divergence(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a,
                                       const torch::Tensor& b, const SinkhornOptions& options,
                                       SinkhornValue value) {
  SinkhornDivergence d;
  d.kind = value;
  d.cross = sinkhorn(x, y, a, b, options);
  SinkhornOptions self_options = options;
  self_options.certify = options.certify || !d.cross.report.converged;
  d.self_x = sinkhorn_self(x, a, self_options);
  d.self_y = sinkhorn_self(y, b, self_options);
  d.value = d.cross.value(value) - 0.5 * (d.self_x.value(value) + d.self_y.value(value));
  return d;
}

}  // namespace flowlab::ot
