#pragma once
// Shared pieces of the sampling integration tests: the Gaussian-mixture
// endpoints of tests/paths/gaussian_mixture_fields_test.cpp, the exact fields
// of GaussianMixtureFields dressed up as a model with a velocity and a score
// head (so that the drift goes through paths::sde_drift_field, as in
// `flowlab sample --sde`), and moment helpers.
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "flowlab/data/gaussian_mixture.h"
#include "flowlab/paths/fields.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "flowlab/solvers/eps_schedule.h"
#include "flowlab/solvers/sde.h"

namespace flowlab::sampling_test {

/// FLOWLAB_SAMPLING_REPORT set: the tests print their measured numbers.
inline bool report() { return std::getenv("FLOWLAB_SAMPLING_REPORT") != nullptr; }

inline torch::Tensor f64(std::initializer_list<double> v) {
  return torch::tensor(std::vector<double>(v), torch::kFloat64);
}
inline torch::Tensor matrix(double a, double b, double d) { return f64({a, b, b, d}).reshape({2, 2}); }

// Two 2-D mixtures whose covariances do not commute (J_b is not symmetric on the two-sided path).
inline data::GaussianMixture source_mixture() {
  return data::GaussianMixture(f64({0.4, 0.6}), f64({-1.5, 0.5, 1.0, -1.0}).reshape({2, 2}),
                               torch::stack({matrix(1.0, 0.6, 0.8), matrix(0.3, 0.0, 0.6)}));
}
inline data::GaussianMixture target_mixture() {
  return data::GaussianMixture(
      f64({0.2, 0.3, 0.5}), f64({2.0, 2.0, -2.0, 1.0, 0.0, -2.5}).reshape({3, 2}),
      torch::stack({matrix(0.5, -0.2, 1.5), matrix(0.2, 0.1, 0.3), matrix(1.2, 0.5, 0.4)}));
}
/// N(mu, sigma^2 I_2).
inline data::GaussianMixture isotropic_gaussian(const torch::Tensor& mu, double sigma) {
  return data::GaussianMixture(f64({1.0}), mu.reshape({1, 2}),
                               (sigma * sigma * torch::eye(2, torch::kFloat64)).unsqueeze(0));
}

/// The exact fields as a two-headed model (velocity and score), in x's dtype.
inline paths::ModelFn oracle_model(const paths::GaussianMixtureFields& fields) {
  return [fields](const torch::Tensor& x, const torch::Tensor& t, const data::Condition&) {
    return paths::Predictions{{paths::Prediction::kVelocity, fields.velocity(x, t)},
                              {paths::Prediction::kScore, fields.score(x, t)}};
  };
}
inline const std::vector<paths::Prediction>& oracle_kinds() {
  static const std::vector<paths::Prediction> kinds = {paths::Prediction::kVelocity, paths::Prediction::kScore};
  return kinds;
}

inline solvers::EpsSchedule eps_schedule(const std::string& type, double eps, const paths::Path& path) {
  solvers::EpsScheduleOptions options;
  options.type = type;
  options.eps = eps;
  return solvers::make_eps_schedule(options, [&path](const torch::Tensor& t) { return paths::noise_level(path, t); });
}

inline std::unique_ptr<solvers::SdeSolver> sde_solver(const std::string& name, int64_t steps,
                                                      solvers::FinalStep final_step) {
  solvers::SdeSolverOptions options;
  options.steps = steps;
  options.final_step = final_step;
  return solvers::make_sde_solver(name, options);
}

}  // namespace flowlab::sampling_test
