#include "flowlab/paths/fields.h"

#include <torch/torch.h>

#include <cmath>

#include "flowlab/core/error.h"

namespace flowlab::paths {

ConditionalField conditional_velocity_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path) {
  const std::string why = path.why_no_velocity(kinds);
  if (!why.empty()) throw Error("no velocity field: " + why);
  return [model = std::move(model), &path](const torch::Tensor& x, const torch::Tensor& t,
                                           const data::Condition& condition) {
    return path.velocity(model(x, t, condition), x, t);
  };
}

solvers::Field velocity_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path,
                              data::Condition condition) {
  return [field = conditional_velocity_field(std::move(model), kinds, path), condition = std::move(condition)](
             const torch::Tensor& x, const torch::Tensor& t) { return field(x, t, condition); };
}

solvers::Field score_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path,
                           data::Condition condition) {
  const std::string why = path.why_no_score(kinds);
  if (!why.empty()) throw Error("no score field: " + why);
  return [model = std::move(model), &path, condition = std::move(condition)](const torch::Tensor& x,
                                                                            const torch::Tensor& t) {
    return path.score(model(x, t, condition), x, t);
  };
}

solvers::Field sde_drift_field(ModelFn model, const std::vector<Prediction>& kinds, const Path& path, TimeFn eps,
                               data::Condition condition) {
  for (const std::string& why : {path.why_no_velocity(kinds), path.why_no_score(kinds)}) {
    if (!why.empty()) throw Error("SDE sampling needs the velocity and the score: " + why);
  }
  return [model = std::move(model), &path, eps = std::move(eps), condition = std::move(condition)](
             const torch::Tensor& x, const torch::Tensor& t) {
    const Predictions outputs = model(x, t, condition);
    return path.velocity(outputs, x, t) + broadcast_to_sample(eps(t), x) * path.score(outputs, x, t);
  };
}

ModelFn guided(ModelFn model, double weight) {
  TORCH_CHECK(std::isfinite(weight), "guidance weight must be finite, got ", weight);
  return [model = std::move(model), weight](const torch::Tensor& x, const torch::Tensor& t,
                                            const data::Condition& condition) -> Predictions {
    if (condition.empty() || weight == 0.0) return model(x, t, data::null_condition(x.size(0), x.device()));
    if (weight == 1.0) return model(x, t, condition);
    const int64_t batch = x.size(0);
    const Predictions both = model(torch::cat({x, x}), torch::cat({t, t}),
                                   data::concat(condition, data::null_condition(batch, condition.labels.device())));
    Predictions out;
    for (const auto& [kind, value] : both) {
      const torch::Tensor conditional = value.slice(0, 0, batch), unconditional = value.slice(0, batch);
      out.emplace_back(kind, unconditional + weight * (conditional - unconditional));
    }
    return out;
  };
}

torch::Tensor noise_level(const Path& path, const torch::Tensor& t) {
  const Coefficients c = path.at(t);
  if (path.gaussian_source()) return torch::sqrt(c.alpha * c.alpha + c.gamma * c.gamma);
  return c.gamma;
}

torch::Tensor times_of_noise_ratio(const Path& path, const torch::Tensor& sigma) {
  const torch::Tensor target = sigma.to(torch::kFloat64);
  TORCH_CHECK((target > 0).all().item<bool>(), "times_of_noise_ratio: sigma must be > 0");
  torch::Tensor lo = torch::zeros_like(target), hi = torch::ones_like(target);
  // 60 halvings leave an interval below float64's resolution of [0, 1].
  for (int i = 0; i < 60; ++i) {
    const torch::Tensor mid = 0.5 * (lo + hi);
    const torch::Tensor ratio = noise_level(path, mid) / path.at(mid).beta;
    const torch::Tensor noisier = ratio > target;  // the ratio falls with t: the time is later
    lo = torch::where(noisier, mid, lo);
    hi = torch::where(noisier, hi, mid);
  }
  return 0.5 * (lo + hi);
}

}  // namespace flowlab::paths
