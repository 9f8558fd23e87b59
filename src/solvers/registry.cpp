// The "solvers" registry and make_solver(), which dispatches by name.
#include <string>
#include <vector>

#include "builtin_solvers.h"
#include "flowlab/core/registry.h"
#include "flowlab/solvers/sde.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {

SolveResult Solver::integrate_rows(const RowField& field, const torch::Tensor& x0, double t0, double t1) const {
  return integrate([&field](const torch::Tensor& x, const torch::Tensor& t) { return field(x, t, torch::Tensor()); },
                   x0, t0, t1);
}

namespace {

struct SolverEntry {
  const char* name;
  const char* doc;
};

// Every built-in solver, in the order `flowlab list` shows them.
const std::vector<SolverEntry>& builtin_solvers() {
  static const std::vector<SolverEntry> entries = {
      {"euler", "explicit Euler, order 1, fixed steps (1 evaluation per step)"},
      {"midpoint", "explicit midpoint, order 2, fixed steps (2 evaluations per step)"},
      {"heun", "Heun's method (explicit trapezoidal), order 2, fixed steps (2 evaluations per step)"},
      {"rk4", "classic Runge-Kutta, order 4, fixed steps (4 evaluations per step)"},
      {"dopri5", "adaptive Dormand-Prince 5(4) with per-sample error control (atol, rtol, max_steps)"},
  };
  return entries;
}

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  for (const SolverEntry& entry : builtin_solvers()) names.emplace_back(entry.name);
  return names;
}

}  // namespace

Registry<Solver>& solver_registry() {
  static Registry<Solver> registry("solvers");
  return registry;
}

void register_builtin_solvers() {
  Registry<Solver>& registry = solver_registry();
  for (const SolverEntry& entry : builtin_solvers()) {
    const std::string name = entry.name;
    if (registry.contains(name)) continue;  // a second call is harmless
    registry.add(
        name, entry.doc,
        [name](config::Node& node) { return make_solver(name, SolverOptions::read(node)); },
        [](config::Node& node) { SolverOptions::read(node); });
  }
  register_builtin_sde_solvers();
}

std::unique_ptr<Solver> make_solver(const std::string& name, const SolverOptions& options) {
  if (name == "dopri5") return detail::make_dopri5_solver(options);
  for (const ButcherTableau* tableau : fixed_step_tableaux()) {
    if (tableau->name == name) return detail::make_fixed_step_solver(*tableau, options);
  }
  throw Error(unknown_name("solver", name, builtin_names()));
}

}  // namespace flowlab::solvers
