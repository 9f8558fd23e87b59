#pragma once
// A trained model becomes solver fields through its path: the path turns the
// model's predicted fields into the velocity b, the score s, and the SDE drift
// b + eps(t) s, each from one model evaluation.
#include <functional>

#include "flowlab/paths/path.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::paths {

/// A model as a plain function of (x, t): its outputs, each with what it predicts.
using ModelFn = std::function<Predictions(const torch::Tensor& x, const torch::Tensor& t)>;
/// eps(t) [B] for times t [B].
using TimeFn = std::function<torch::Tensor(const torch::Tensor& t)>;

/// The velocity b(x, t). Throws Error when the model's fields do not determine it.
solvers::Field velocity_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path);
/// The score grad log rho_t(x). Throws Error when the model's fields do not determine it.
solvers::Field score_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path);
/// The drift b + eps(t) s of the SDE dX = (b + eps s) dt + sqrt(2 eps) dW, which has the
/// marginals of the probability-flow ODE for any eps >= 0.
solvers::Field sde_drift_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path, TimeFn eps);

/// The noise level of x_t given the data: sqrt(alpha^2 + gamma^2) on Gaussian-source paths
/// (x0 is noise there), gamma on two-sided ones.
torch::Tensor noise_level(const Path& path, const torch::Tensor& t);

}  // namespace flowlab::paths
