// Fixed-step explicit Runge-Kutta: euler, midpoint, heun and rk4 are tableaux
// driven by this one stepper.
#include <torch/torch.h>

#include "builtin_solvers.h"
#include "flowlab/core/error.h"
#include "flowlab/solvers/graphed_solve.h"

namespace flowlab::solvers::detail {
namespace {

class FixedStepSolver : public Solver {
 public:
  FixedStepSolver(const ButcherTableau& tableau, const SolverOptions& options)
      : tableau_(tableau), options_(options) {
    validate_options(tableau_.name, options_);
  }

  SolveResult integrate(const Field& field, const torch::Tensor& x0, double t0, double t1) const override {
    // Inside a CUDA graph capture nothing may be read back: GraphedSolve checks x0 itself and
    // reads first_non_finite_step after each replay.
    const bool capturing = stream_capturing(x0.device());
    if (!capturing) check_solve_inputs(tableau_.name, x0, t0, t1);
    torch::AutoGradMode grad_mode(options_.enable_grad);
    const int64_t batch = x0.size(0);

    SolveResult result;
    result.x = x0.clone();
    result.rejected_per_sample = torch::zeros({batch}, torch::kLong);
    if (t0 == t1 || x0.numel() == 0) {
      result.accepted_per_sample = torch::zeros({batch}, torch::kLong);
      return result;
    }

    // Bookkeeping times stay in float64; the field sees them in x's dtype.
    const auto time_options = x0.options().dtype(torch::kDouble);
    const int64_t steps = options_.steps;
    torch::Tensor x = result.x;
    // The first step whose state is non-finite, recorded on the device and read once at the end:
    // no host sync per step (a GPU would wait on each).
    torch::Tensor first_bad = torch::full({}, -1, x0.options().dtype(torch::kLong).requires_grad(false));
    for (int64_t n = 0; n < steps; ++n) {
      // Grid points from t0 + (t1 - t0) n / steps, so the last one is exactly t1.
      const double t_start = t0 + (t1 - t0) * static_cast<double>(n) / static_cast<double>(steps);
      const double t_end = n + 1 == steps ? t1 : t0 + (t1 - t0) * static_cast<double>(n + 1) / static_cast<double>(steps);
      const torch::Tensor t = torch::full({batch}, t_start, time_options);
      const torch::Tensor h = torch::full({batch}, t_end - t_start, time_options);
      const std::vector<torch::Tensor> stages = runge_kutta_stages(tableau_, field, x, t, h);
      x = x + runge_kutta_increment(h, tableau_.b, stages);
      result.nfe += tableau_.stages();
      first_bad.masked_fill_(finite_rows(x.detach()).all().logical_not().logical_and(first_bad < 0), n + 1);
    }
    result.x = x;
    result.steps = steps;
    result.first_non_finite_step = first_bad;
    if (!capturing) {
      throw_if_non_finite(tableau_.name, result, t0, t1, batch);
      result.first_non_finite_step = torch::Tensor();
    }
    result.accepted = steps * batch;
    result.accepted_per_sample = torch::full({batch}, steps, torch::kLong);
    return result;
  }

 private:
  const ButcherTableau& tableau_;
  SolverOptions options_;
};

}  // namespace

std::unique_ptr<Solver> make_fixed_step_solver(const ButcherTableau& tableau, const SolverOptions& options) {
  return std::make_unique<FixedStepSolver>(tableau, options);
}

}  // namespace flowlab::solvers::detail
