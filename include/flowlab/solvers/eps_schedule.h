#pragma once
// eps(t) for the generative SDE dX = (b + eps(t) s) dt + sqrt(2 eps(t)) dW,
// which keeps the probability-flow marginals for any eps(t) >= 0, so eps can be
// chosen at sampling time. Schedules that vanish at t = 1 make the last steps
// nearly deterministic.
#include <torch/types.h>

#include <functional>
#include <string>

#include "flowlab/solvers/sde.h"

namespace flowlab::solvers {

/// eps(t): t [B] -> [B] (>= 0), in t's dtype and on t's device.
using EpsSchedule = std::function<torch::Tensor(const torch::Tensor& t)>;

/// sigma(t): t [B] -> [B] (>= 0), a path's noise level, e.g. gamma(t), or alpha(t)
/// for a Gaussian source.
using NoiseLevel = std::function<torch::Tensor(const torch::Tensor& t)>;

struct EpsScheduleOptions {
  /// constant: eps; noise_level: eps sigma(t) / max_[0,1] sigma;
  /// linear_decay: eps (1 - t); cosine_decay: eps cos^2(pi t / 2).
  std::string type = "constant";
  double eps = 0.0;  ///< scale, >= 0
  static EpsScheduleOptions read(config::Node& node);
};

/// The schedule of `options`; throws Error for an unknown type or eps < 0.
/// Type noise_level needs `noise_level` (ignored otherwise), which is called
/// once here on float64 CPU times: its maximum over [0, 1] is taken on a grid
/// of 1001 points and must be > 0. linear_decay is 0 beyond t = 1.
EpsSchedule make_eps_schedule(const EpsScheduleOptions& options, const NoiseLevel& noise_level = {});

/// g(t) = sqrt(2 eps(t)), the diffusion that goes with eps(t).
Diffusion diffusion_from_eps(const EpsSchedule& eps);

}  // namespace flowlab::solvers
