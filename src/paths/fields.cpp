#include "flowlab/paths/fields.h"

#include <torch/torch.h>

#include "flowlab/core/error.h"

namespace flowlab::paths {

solvers::Field velocity_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path) {
  const std::string why = path.why_no_velocity(kinds);
  if (!why.empty()) throw Error("no velocity field: " + why);
  return [model = std::move(model), &path](const torch::Tensor& x, const torch::Tensor& t) {
    return path.velocity(model(x, t), x, t);
  };
}

solvers::Field score_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path) {
  const std::string why = path.why_no_score(kinds);
  if (!why.empty()) throw Error("no score field: " + why);
  return [model = std::move(model), &path](const torch::Tensor& x, const torch::Tensor& t) {
    return path.score(model(x, t), x, t);
  };
}

solvers::Field sde_drift_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path, TimeFn eps) {
  for (const std::string& why : {path.why_no_velocity(kinds), path.why_no_score(kinds)}) {
    if (!why.empty()) throw Error("SDE sampling needs the velocity and the score: " + why);
  }
  return [model = std::move(model), &path, eps = std::move(eps)](const torch::Tensor& x, const torch::Tensor& t) {
    const Predictions outputs = model(x, t);
    return path.velocity(outputs, x, t) + broadcast_to_sample(eps(t), x) * path.score(outputs, x, t);
  };
}

torch::Tensor noise_level(const Path& path, const torch::Tensor& t) {
  const Coefficients c = path.at(t);
  if (path.gaussian_source()) return torch::sqrt(c.alpha * c.alpha + c.gamma * c.gamma);
  return c.gamma;
}

}  // namespace flowlab::paths
