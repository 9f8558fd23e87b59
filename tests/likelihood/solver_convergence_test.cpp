// The likelihood with each registered solver: fixed-step errors against the
// closed form shrink at the method's order, and dopri5's at its tolerance.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "flowlab/data/dataset.h"
#include "flowlab/solvers/likelihood.h"
#include "likelihood/closed_form_flows.h"

namespace flowlab::solvers {
namespace {

using closed_form::likelihood_options;
using closed_form::max_abs_diff;

// Nonlinear and time-dependent, so no method is exact on it.
const closed_form::GaussianToMixture& mixture() {
  static const closed_form::GaussianToMixture flow = closed_form::three_component_mixture();
  return flow;
}

torch::Tensor points() { return torch::tensor({{-1.5, 0.4}, {1.0, 1.2}, {0.3, -0.8}}, torch::kDouble); }

double fixed_step_error(const std::string& solver, int64_t steps) {
  LikelihoodOptions options = likelihood_options("exact");
  options.solver = solver;
  options.solver_options.steps = steps;
  at::Generator gen = data::make_generator(0);
  const LogLikelihood result = log_likelihood(mixture().field(), standard_normal_log_prob, points(), options, gen);
  return max_abs_diff(result.log_prob, mixture().log_prob(points()));
}

TEST(LikelihoodSolvers, FixedStepErrorsShrinkAtTheMethodsOrder) {
  struct Method {
    std::string name;
    int order;
    int64_t steps;  // truncation still dominates round-off at 4x these steps
  };
  // Step counts where the error is already in its asymptotic regime.
  for (const Method& method : std::vector<Method>{{"euler", 1, 32}, {"heun", 2, 64}, {"midpoint", 2, 32},
                                                  {"rk4", 4, 64}}) {
    SCOPED_TRACE(method.name);
    const double coarse = fixed_step_error(method.name, method.steps);
    const double medium = fixed_step_error(method.name, 2 * method.steps);
    const double fine = fixed_step_error(method.name, 4 * method.steps);
    std::ostringstream measured;
    measured << coarse << " " << medium << " " << fine;
    ::testing::Test::RecordProperty(method.name, measured.str());
    // Observed order log2(e_N / e_2N), between successive refinements.
    for (const auto& [a, b] : std::vector<std::pair<double, double>>{{coarse, medium}, {medium, fine}}) {
      EXPECT_NEAR(std::log2(a / b), method.order, 0.25) << measured.str();
    }
  }
}

TEST(LikelihoodSolvers, Dopri5ErrorFollowsItsTolerance) {
  double previous_error = INFINITY;
  int64_t previous_nfe = 0;
  for (double tol : {1e-3, 1e-5, 1e-7}) {
    SCOPED_TRACE("tol " + std::to_string(tol));
    at::Generator gen = data::make_generator(0);
    const LogLikelihood result = log_likelihood(mixture().field(), standard_normal_log_prob, points(),
                                                likelihood_options("exact", 1, "rademacher", tol), gen);
    const double error = max_abs_diff(result.log_prob, mixture().log_prob(points()));
    EXPECT_LT(error, 20 * tol);
    EXPECT_LT(error, previous_error);
    EXPECT_GT(result.nfe, previous_nfe);
    previous_error = error;
    previous_nfe = result.nfe;
  }
}

}  // namespace
}  // namespace flowlab::solvers
