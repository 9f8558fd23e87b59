// Input checks shared by the built-in solvers.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "builtin_solvers.h"
#include "flowlab/core/error.h"

namespace flowlab::solvers::detail {

void validate_options(const std::string& solver, const SolverOptions& options) {
  auto fail = [&](const std::string& what) { throw Error(solver + ": " + what); };
  if (options.steps < 1) fail("steps must be >= 1, got " + std::to_string(options.steps));
  if (!(options.atol >= 0.0) || !std::isfinite(options.atol)) {
    fail("atol must be a finite number >= 0, got " + std::to_string(options.atol));
  }
  if (!(options.rtol >= 0.0) || !std::isfinite(options.rtol)) {
    fail("rtol must be a finite number >= 0, got " + std::to_string(options.rtol));
  }
  if (options.atol == 0.0 && options.rtol == 0.0) fail("atol and rtol cannot both be 0");
  if (options.max_steps < 1) fail("max_steps must be >= 1, got " + std::to_string(options.max_steps));
}

void check_solve_inputs(const std::string& solver, const torch::Tensor& x0, double t0, double t1) {
  TORCH_CHECK(x0.defined(), solver, ": the initial state is undefined");
  TORCH_CHECK(x0.dim() >= 1, solver, ": the initial state must be batch-first [B, ...], got shape ",
              x0.sizes());
  TORCH_CHECK(x0.is_floating_point(), solver, ": the initial state must be floating point, got ",
              x0.scalar_type(), " of shape ", x0.sizes());
  TORCH_CHECK(std::isfinite(t0) && std::isfinite(t1), solver, ": times must be finite, got t0=", t0,
              " t1=", t1);
  const int64_t bad = (~finite_rows(x0.detach())).sum().item<int64_t>();
  if (bad > 0) {
    throw Error(solver + ": the initial state at t=" + format_time(t0) + " is non-finite for " +
                std::to_string(bad) + " of " + std::to_string(x0.size(0)) + " samples (shape " +
                c10::str(x0.sizes()) + ")");
  }
}

void throw_if_non_finite(const std::string& solver, const SolveResult& result, double t0, double t1, int64_t batch) {
  if (!result.first_non_finite_step.defined()) return;
  const int64_t n = result.first_non_finite_step.item<int64_t>();
  if (n < 0) return;
  const int64_t steps = std::max<int64_t>(result.steps, 1);
  const double t_start = t0 + (t1 - t0) * static_cast<double>(n - 1) / static_cast<double>(steps);
  const double t_end = n == steps ? t1 : t0 + (t1 - t0) * static_cast<double>(n) / static_cast<double>(steps);
  const int64_t bad = (~finite_rows(result.x.detach())).sum().item<int64_t>();
  throw Error(solver + ": the state became non-finite at t=" + format_time(t_end) + " (step " + std::to_string(n) +
              " of " + std::to_string(steps) + ", from t=" + format_time(t_start) + "); " + std::to_string(bad) +
              " of " + std::to_string(batch) + " samples are non-finite at the end");
}

torch::Tensor finite_rows(const torch::Tensor& x) {
  if (x.numel() == 0) return torch::ones({x.size(0)}, x.options().dtype(torch::kBool));
  return torch::isfinite(x).reshape({x.size(0), -1}).all(1);
}

std::string format_time(double t) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", t);
  return text;
}

}  // namespace flowlab::solvers::detail
