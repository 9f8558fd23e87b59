// SDE solvers: the uniform-grid driver, Euler-Maruyama, stochastic Heun, their
// options and the "sde_solvers" registry.
#include "flowlab/solvers/sde.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "builtin_solvers.h"
#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"
#include "flowlab/solvers/runge_kutta.h"

namespace flowlab::solvers {
namespace {

// v [B] reshaped to broadcast against x [B, ...], in x's dtype.
torch::Tensor per_row(const torch::Tensor& v, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = v.size(0);
  return v.to(x.scalar_type()).view(shape);
}

// g(t) checked to be [B], shaped to broadcast against x.
torch::Tensor evaluate_diffusion(const std::string& solver, const Diffusion& diffusion, const torch::Tensor& t,
                                 const torch::Tensor& x) {
  const torch::Tensor g = diffusion(t);
  TORCH_CHECK(g.defined(), solver, ": the diffusion returned an undefined tensor");
  TORCH_CHECK(g.dim() == 1 && g.size(0) == x.size(0), solver, ": the diffusion must return one value per sample [",
              x.size(0), "], got shape ", g.sizes(), " (state of shape ", x.sizes(), ")");
  TORCH_CHECK(g.device() == x.device(), solver, ": the diffusion returned a tensor on ", g.device(),
              " for a state on ", x.device());
  return per_row(g, x);
}

torch::Tensor checked_noise(const std::string& solver, const torch::Tensor& xi, const torch::Tensor& x) {
  TORCH_CHECK(xi.defined(), solver, ": the noise source returned an undefined tensor");
  TORCH_CHECK(xi.sizes() == x.sizes(), solver, ": the noise has shape ", xi.sizes(), " but the state has shape ",
              x.sizes());
  TORCH_CHECK(xi.device() == x.device(), solver, ": the noise is on ", xi.device(), " but the state is on ",
              x.device());
  return xi.scalar_type() == x.scalar_type() ? xi : xi.to(x.scalar_type());
}

torch::Tensor times_like(double t, const torch::Tensor& x) { return torch::full({x.size(0)}, t, x.options()); }

// x_{n+1} = x_n + f(x_n, t_n) h + g(t_n) sqrt(h) xi_n: the Ito discretisation,
// weak order 1.
class EulerMaruyama : public SdeSolver {
 public:
  explicit EulerMaruyama(const SdeSolverOptions& options) : SdeSolver("euler_maruyama", options) {}

 protected:
  torch::Tensor step(const Field& drift, const Diffusion& diffusion, const torch::Tensor& x, double t_start,
                     double t_end, const torch::Tensor& xi, int64_t& nfe) const override {
    const double h = t_end - t_start;
    const torch::Tensor t = times_like(t_start, x);
    torch::Tensor x_next = x + h * evaluate_field(drift, x, t);
    nfe += 1;
    if (xi.defined()) x_next = x_next + std::sqrt(h) * evaluate_diffusion(name(), diffusion, t, x) * xi;
    return x_next;
  }
};

// Heun's predictor-corrector for additive noise, one xi for both stages:
//   x' = x + f(x, t) h + g sqrt(h) xi
//   x_next = x + (f(x, t) + f(x', t + h)) h / 2 + g sqrt(h) xi.
// With time-dependent g the step uses g = sqrt((g(t)^2 + g(t + h)^2) / 2): its
// square is the trapezoid rule for the variance int g^2 ds of the exact noise
// increment, accurate to O(h^3) per step. Taking g(t) alone would be off by
// O(h^2) per step and drop the method to weak order 1.
class StochasticHeun : public SdeSolver {
 public:
  explicit StochasticHeun(const SdeSolverOptions& options) : SdeSolver("stochastic_heun", options) {}

 protected:
  torch::Tensor step(const Field& drift, const Diffusion& diffusion, const torch::Tensor& x, double t_start,
                     double t_end, const torch::Tensor& xi, int64_t& nfe) const override {
    const double h = t_end - t_start;
    const torch::Tensor t = times_like(t_start, x);
    const torch::Tensor t_next = times_like(t_end, x);
    const torch::Tensor slope = evaluate_field(drift, x, t);
    torch::Tensor noise;
    if (xi.defined()) {
      const torch::Tensor g_start = evaluate_diffusion(name(), diffusion, t, x);
      const torch::Tensor g_end = evaluate_diffusion(name(), diffusion, t_next, x);
      const torch::Tensor g = ((g_start * g_start + g_end * g_end) * 0.5).sqrt();
      noise = std::sqrt(h) * g * xi;
    }
    torch::Tensor predictor = x + h * slope;
    if (noise.defined()) predictor = predictor + noise;
    const torch::Tensor slope_next = evaluate_field(drift, predictor, t_next);
    nfe += 2;
    torch::Tensor x_next = x + (0.5 * h) * (slope + slope_next);
    if (noise.defined()) x_next = x_next + noise;
    return x_next;
  }
};

struct SdeSolverEntry {
  const char* name;
  const char* doc;
};

// Every built-in SDE solver, in the order `flowlab list` shows them.
const std::vector<SdeSolverEntry>& builtin_sde_solvers() {
  static const std::vector<SdeSolverEntry> entries = {
      {"euler_maruyama", "Euler-Maruyama, weak order 1, fixed steps (1 drift evaluation per step)"},
      {"stochastic_heun",
       "stochastic Heun predictor-corrector for additive noise, weak order 2 for linear drift, fixed steps "
       "(2 drift evaluations per step)"},
  };
  return entries;
}

std::vector<std::string> builtin_sde_names() {
  std::vector<std::string> names;
  for (const SdeSolverEntry& entry : builtin_sde_solvers()) names.emplace_back(entry.name);
  return names;
}

}  // namespace

SdeSolverOptions SdeSolverOptions::read(config::Node& node) {
  SdeSolverOptions options;
  options.steps = node.get<int64_t>("steps", options.steps, "number of uniform steps");
  node.expect(options.steps >= 1, "steps", "an integer >= 1");
  const std::string final_step =
      node.get_choice("final_step", "mean", {"noise", "mean"},
                      "noise: every step adds noise; mean: the last step adds none (final denoising step)");
  options.final_step = final_step == "noise" ? FinalStep::kNoise : FinalStep::kMean;
  return options;
}

SdeSolver::SdeSolver(std::string name, const SdeSolverOptions& options) : name_(std::move(name)), options_(options) {
  if (options_.steps < 1) throw Error(name_ + ": steps must be >= 1, got " + std::to_string(options_.steps));
}

SdeSolveResult SdeSolver::integrate(const Field& drift, const Diffusion& diffusion, const torch::Tensor& x0,
                                    double t0, double t1, NoiseStream& noise) const {
  return integrate(drift, diffusion, x0, t0, t1, NoiseSource([&noise] { return noise.next(); }));
}

SdeSolveResult SdeSolver::integrate(const Field& drift, const Diffusion& diffusion, const torch::Tensor& x0,
                                    double t0, double t1, const NoiseSource& noise) const {
  detail::check_solve_inputs(name_, x0, t0, t1);
  if (!(t1 > t0)) {
    throw Error(name_ + ": SDEs are integrated forward in time only (t1 > t0), got t0=" + detail::format_time(t0) +
                " t1=" + detail::format_time(t1));
  }
  torch::AutoGradMode grad_mode(options_.enable_grad);
  SdeSolveResult result;
  if (x0.numel() == 0) {
    result.x = x0.clone();
    return result;
  }

  const int64_t steps = options_.steps;
  const int64_t batch = x0.size(0);
  torch::Tensor x = x0;
  for (int64_t n = 0; n < steps; ++n) {
    // Grid points from t0 + (t1 - t0) n / steps, so the last one is exactly t1.
    const double t_start = t0 + (t1 - t0) * static_cast<double>(n) / static_cast<double>(steps);
    const double t_end =
        n + 1 == steps ? t1 : t0 + (t1 - t0) * static_cast<double>(n + 1) / static_cast<double>(steps);
    const bool adds_noise = n + 1 < steps || options_.final_step == FinalStep::kNoise;
    const torch::Tensor xi = adds_noise ? checked_noise(name_, noise(), x) : torch::Tensor();
    x = step(drift, diffusion, x, t_start, t_end, xi, result.nfe);

    const int64_t non_finite = (~detail::finite_rows(x.detach())).sum().item<int64_t>();
    if (non_finite > 0) {
      throw Error(name_ + ": the state became non-finite at t=" + detail::format_time(t_end) + " (step " +
                  std::to_string(n + 1) + " of " + std::to_string(steps) + ", from t=" +
                  detail::format_time(t_start) + ") for " + std::to_string(non_finite) + " of " +
                  std::to_string(batch) + " samples");
    }
  }
  result.x = x;
  result.steps = steps;
  return result;
}

Registry<SdeSolver>& sde_solver_registry() {
  static Registry<SdeSolver> registry("sde_solvers");
  return registry;
}

void register_builtin_sde_solvers() {
  Registry<SdeSolver>& registry = sde_solver_registry();
  for (const SdeSolverEntry& entry : builtin_sde_solvers()) {
    const std::string name = entry.name;
    if (registry.contains(name)) continue;  // a second call is harmless
    registry.add(
        name, entry.doc,
        [name](config::Node& node) { return make_sde_solver(name, SdeSolverOptions::read(node)); },
        [](config::Node& node) { SdeSolverOptions::read(node); });
  }
}

std::unique_ptr<SdeSolver> make_sde_solver(const std::string& name, const SdeSolverOptions& options) {
  if (name == "euler_maruyama") return std::make_unique<EulerMaruyama>(options);
  if (name == "stochastic_heun") return std::make_unique<StochasticHeun>(options);
  throw Error(unknown_name("SDE solver", name, builtin_sde_names()));
}

}  // namespace flowlab::solvers
