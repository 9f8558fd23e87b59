// Adaptive Dormand-Prince 5(4) with per-sample error control.
//
// Each sample carries its own time, step size and accepted/rejected counts, so
// one stiff sample does not force small steps on the rest of the batch. The
// field is evaluated only on the rows of samples still integrating (one batched
// call per stage); it must therefore treat rows independently. Step-size
// bookkeeping is float64 and never enters the autograd graph.
#include <torch/torch.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "builtin_solvers.h"
#include "flowlab/core/error.h"

namespace flowlab::solvers::detail {
namespace {

constexpr double kSafety = 0.9;      // aim below the tolerance so the next step is likely accepted
constexpr double kMinFactor = 0.2;   // never shrink a step by more than 5x at once
constexpr double kMaxFactor = 10.0;  // never grow a step by more than 10x at once
constexpr double kErrorExponent = -1.0 / 5.0;  // 1 / (order of the embedded method + 1)

// Per-sample root mean square over each sample's elements, as float64 [B].
torch::Tensor rms_per_sample(const torch::Tensor& v) {
  return v.reshape({v.size(0), -1}).to(torch::kDouble).pow(2).mean(1).sqrt();
}

// v [B] reshaped to broadcast against x [B, ...].
torch::Tensor per_row(const torch::Tensor& v, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = v.size(0);
  return v.view(shape);
}

// "0.5" or "[0.25, 0.5]" for the times in t [n] (n >= 1).
std::string describe_times(const torch::Tensor& t) {
  const double low = t.min().item<double>();
  const double high = t.max().item<double>();
  if (low == high) return "t=" + format_time(low);
  return "t in [" + format_time(low) + ", " + format_time(high) + "]";
}

class Dopri5Solver : public Solver {
 public:
  explicit Dopri5Solver(const SolverOptions& options) : options_(options) { validate_options("dopri5", options_); }

  SolveResult integrate(const Field& field, const torch::Tensor& x0, double t0, double t1) const override {
    return integrate_rows([&field](const torch::Tensor& x, const torch::Tensor& t,
                                   const torch::Tensor&) { return field(x, t); },
                          x0, t0, t1);
  }

  // The trials after the first step evaluate the still-active rows only; the field is told which.
  SolveResult integrate_rows(const RowField& row_field, const torch::Tensor& x0, double t0,
                             double t1) const override {
    check_solve_inputs("dopri5", x0, t0, t1);
    const Field field = [&row_field](const torch::Tensor& x, const torch::Tensor& t) {
      return row_field(x, t, torch::Tensor());
    };
    torch::AutoGradMode grad_mode(options_.enable_grad);
    const ButcherTableau& tableau = dormand_prince_tableau();
    const int64_t batch = x0.size(0);
    const auto state_dtype = x0.scalar_type();
    const auto time_options = x0.options().dtype(torch::kDouble);
    const auto count_options = x0.options().dtype(torch::kLong);

    SolveResult result;
    if (t0 == t1 || x0.numel() == 0) {
      result.x = x0.clone();
      result.accepted_per_sample = torch::zeros({batch}, torch::kLong);
      result.rejected_per_sample = torch::zeros({batch}, torch::kLong);
      return result;
    }
    const double direction = t1 > t0 ? 1.0 : -1.0;
    // Below this a step no longer moves t: the field is non-finite or too stiff.
    const double min_step = 16.0 * DBL_EPSILON * std::max(std::abs(t0), std::abs(t1));

    torch::Tensor x = x0;
    torch::Tensor t = torch::full({batch}, t0, time_options);
    torch::Tensor derivative = evaluate_field(field, x, t.to(state_dtype));  // k_0, reused (FSAL)
    result.nfe = 1;
    const int64_t bad_start = (~finite_rows(derivative.detach())).sum().item<int64_t>();
    if (bad_start > 0) {
      throw Error("dopri5: the field returned non-finite values at t=" + format_time(t0) + " for " +
                  std::to_string(bad_start) + " of " + std::to_string(batch) + " samples");
    }
    torch::Tensor step = initial_step(field, x, t0, derivative, direction, std::abs(t1 - t0));
    result.nfe += 1;

    torch::Tensor accepted = torch::zeros({batch}, count_options);
    torch::Tensor rejected = torch::zeros({batch}, count_options);
    torch::Tensor done = torch::zeros({batch}, count_options.dtype(torch::kBool));
    // A step accepted right after a rejection must not grow: the rejection
    // showed that a larger step fails.
    torch::Tensor just_rejected = torch::zeros({batch}, count_options.dtype(torch::kBool));

    while (true) {
      const torch::Tensor active = (~done).nonzero().squeeze(1);
      const int64_t n_active = active.size(0);
      if (n_active == 0) break;
      const bool all_active = n_active == batch;
      auto rows = [&](const torch::Tensor& v) { return all_active ? v : v.index_select(0, active); };
      // Writes the active rows back (out of place, so autograd can follow).
      auto merge = [&](const torch::Tensor& whole, const torch::Tensor& part) {
        return all_active ? part : whole.index_copy(0, active, part);
      };

      const torch::Tensor x_a = rows(x);
      const torch::Tensor t_a = rows(t);
      const torch::Tensor step_a = rows(step);
      const torch::Tensor derivative_a = rows(derivative);

      // The step that would reach or pass t1 is cut to land exactly on it.
      const torch::Tensor remaining = (t1 - t_a).abs();
      const torch::Tensor last = step_a >= remaining;
      const torch::Tensor h = direction * torch::where(last, remaining, step_a);

      const Field active_field = [&](const torch::Tensor& y, const torch::Tensor& time) {
        return row_field(y, time, all_active ? torch::Tensor() : active);
      };
      const std::vector<torch::Tensor> stages =
          runge_kutta_stages(tableau, active_field, x_a, t_a, h, derivative_a);
      result.nfe += tableau.stages() - 1;
      const torch::Tensor x_new = x_a + runge_kutta_increment(h, tableau.b, stages);

      torch::Tensor accept, new_step, t_new;
      {
        torch::NoGradGuard no_grad;
        const torch::Tensor error = runge_kutta_increment(h, tableau.error_weights, stages);
        const torch::Tensor scale = options_.atol + options_.rtol * torch::maximum(x_a.abs(), x_new.abs());
        torch::Tensor error_norm = rms_per_sample(error / scale);
        // A non-finite trial is rejected like a too-large step.
        const torch::Tensor trial_finite =
            finite_rows(x_new) & finite_rows(stages.back()) & torch::isfinite(error_norm);
        error_norm = torch::where(trial_finite, error_norm, torch::full_like(error_norm, INFINITY));
        accept = error_norm <= 1.0;
        torch::Tensor factor = (kSafety * error_norm.pow(kErrorExponent)).clamp(kMinFactor, kMaxFactor);
        factor = torch::where(accept & rows(just_rejected), factor.clamp_max(1.0), factor);
        new_step = h.abs() * factor;
        t_new = torch::where(last, torch::full_like(t_a, t1), t_a + h);
        t_new = direction > 0 ? t_new.clamp_max(t1) : t_new.clamp_min(t1);
      }

      const torch::Tensor finished = accept & last;
      const torch::Tensor accepted_a = rows(accepted) + accept.to(torch::kLong);
      const torch::Tensor rejected_a = rows(rejected) + (~accept).to(torch::kLong);
      accepted = merge(accepted, accepted_a);
      rejected = merge(rejected, rejected_a);
      t = merge(t, torch::where(accept, t_new, t_a));
      step = merge(step, new_step);
      done = merge(done, finished);
      just_rejected = merge(just_rejected, ~accept);
      const torch::Tensor accept_rows = per_row(accept, x_a);
      x = merge(x, torch::where(accept_rows, x_new, x_a));
      derivative = merge(derivative, torch::where(accept_rows, stages.back(), derivative_a));

      const torch::Tensor underflow = ~accept & (new_step < min_step);
      const torch::Tensor over_cap = ~finished & (accepted_a + rejected_a >= options_.max_steps);
      const torch::Tensor failures = torch::stack({underflow.any(), over_cap.any()}).cpu();
      if (failures[0].item<bool>()) {
        throw Error("dopri5: the step size underflowed for " + std::to_string(underflow.sum().item<int64_t>()) +
                    " of " + std::to_string(batch) + " samples at " + describe_times(t_a.index({underflow})) +
                    ": the field is non-finite or too stiff there");
      }
      if (failures[1].item<bool>()) {
        const torch::Tensor t_reached = rows(t).index({over_cap});
        throw Error("dopri5: " + std::to_string(over_cap.sum().item<int64_t>()) + " of " +
                    std::to_string(batch) + " samples did not reach t=" + format_time(t1) + " within max_steps=" +
                    std::to_string(options_.max_steps) + " steps (they reached " + describe_times(t_reached) +
                    "); raise max_steps or loosen atol/rtol");
      }
    }

    result.x = x;
    result.accepted_per_sample = accepted.cpu();
    result.rejected_per_sample = rejected.cpu();
    result.accepted = result.accepted_per_sample.sum().item<int64_t>();
    result.rejected = result.rejected_per_sample.sum().item<int64_t>();
    result.steps = (result.accepted_per_sample + result.rejected_per_sample).max().item<int64_t>();
    return result;
  }

 private:
  // Per-sample starting step (Hairer, Norsett & Wanner, Solving ODEs I, II.4):
  // a step whose Euler increment and change of derivative are small relative
  // to the tolerances. Costs one batched field evaluation. Returns |h| [B].
  torch::Tensor initial_step(const Field& field, const torch::Tensor& x0, double t0, const torch::Tensor& f0,
                             double direction, double span) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = x0.detach();
    const torch::Tensor f = f0.detach();
    const torch::Tensor scale = options_.atol + options_.rtol * x.abs();
    const torch::Tensor d0 = rms_per_sample(x / scale);
    const torch::Tensor d1 = rms_per_sample(f / scale);
    torch::Tensor h0 = torch::where((d0 < 1e-5) | (d1 < 1e-5), torch::full_like(d0, 1e-6), 0.01 * d0 / d1);
    h0 = h0.clamp_max(span);

    const torch::Tensor h0_signed = direction * h0;
    // One Euler step of size h0 probes how fast the derivative changes.
    const torch::Tensor x_probe = x + per_row(h0_signed, x).to(x.scalar_type()) * f;
    const torch::Tensor t_probe = (t0 + h0_signed).to(x.scalar_type());
    const torch::Tensor f_probe = evaluate_field(field, x_probe, t_probe);
    const torch::Tensor d2 = rms_per_sample((f_probe - f) / scale) / h0;

    const torch::Tensor d_max = torch::maximum(d1, d2);
    torch::Tensor h1 = torch::where(d_max <= 1e-15, torch::clamp_min(h0 * 1e-3, 1e-6),
                                    (0.01 / d_max).pow(1.0 / 5.0));
    // A non-finite probe says nothing about the scale; fall back to h0.
    h1 = torch::where(torch::isfinite(h1), h1, h0);
    const torch::Tensor h = torch::minimum(100.0 * h0, h1).clamp_max(span);
    // Zero tolerances at a zero state make every ratio undefined; start small.
    return torch::where(torch::isfinite(h) & (h > 0), h, torch::full_like(h, 1e-6 * span));
  }

  SolverOptions options_;
};

}  // namespace

std::unique_ptr<Solver> make_dopri5_solver(const SolverOptions& options) {
  return std::make_unique<Dopri5Solver>(options);
}

}  // namespace flowlab::solvers::detail
