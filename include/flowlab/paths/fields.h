#pragma once
// A trained model becomes solver fields through its path: the path turns the
// model's predicted fields into the velocity b, the score s, and the SDE drift
// b + eps(t) s, each from one model evaluation. A condition (class labels, one per
// sample of the batch the solver integrates) is bound when the field is built.
#include <functional>

#include "flowlab/data/condition.h"
#include "flowlab/paths/path.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::paths {

/// A model as a plain function of (x, t, condition): its outputs, each with what it predicts.
using ModelFn =
    std::function<Predictions(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition)>;
/// A field that is given the condition of each batch it evaluates.
using ConditionalField =
    std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition)>;
/// eps(t) [B] for times t [B].
using TimeFn = std::function<torch::Tensor(const torch::Tensor& t)>;

/// The velocity b(x, t | c) with the condition given per call. Throws Error when the model's
/// fields do not determine it.
ConditionalField conditional_velocity_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path);
/// The velocity b(x, t | condition). Throws Error when the model's fields do not determine it.
solvers::Field velocity_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path,
                              data::Condition condition = {});
/// The score grad log rho_t(x | condition). Throws Error when the model's fields do not determine it.
solvers::Field score_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path,
                           data::Condition condition = {});
/// The drift b + eps(t) s of the SDE dX = (b + eps s) dt + sqrt(2 eps) dW, which has the
/// marginals of the probability-flow ODE for any eps >= 0.
solvers::Field sde_drift_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path, TimeFn eps,
                               data::Condition condition = {});

/// Classifier-free guidance (Ho & Salimans 2022) as a model combinator: every predicted field
/// becomes f(x | null) + w (f(x | c) - f(x | null)), from one forward pass on the doubled batch
/// [x; x] with conditions [c; null]. The path's conversions are affine in the prediction with
/// weights that do not depend on it, so this is the same guidance on the velocity b, the score
/// and the SDE drift. w = 1 is the conditional model (one pass on x), w = 0 the unconditional
/// one; an empty condition gives the unconditional model for every w.
ModelFn guided(ModelFn model, double weight);

/// The noise level of x_t given the data: sqrt(alpha^2 + gamma^2) on Gaussian-source paths
/// (x0 is noise there), gamma on two-sided ones.
torch::Tensor noise_level(const Path& path, const torch::Tensor& t);
/// The times t at which the path's noise-to-signal ratio noise_level(t) / beta(t) equals each
/// sigma (> 0): EDM's sigma of x_t / beta = x1 + sigma eps. The ratio falls from infinity at
/// t = 0 to 0 at t = 1 on the paths of this library; found by bisection to float64 precision.
/// sigma [K] -> t [K] (float64).
torch::Tensor times_of_noise_ratio(const Path& path, const torch::Tensor& sigma);

}  // namespace flowlab::paths
