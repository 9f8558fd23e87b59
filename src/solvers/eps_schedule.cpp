#include "flowlab/solvers/eps_schedule.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab::solvers {
namespace {

const std::vector<std::string>& schedule_types() {
  static const std::vector<std::string> types = {"constant", "noise_level", "linear_decay", "cosine_decay"};
  return types;
}

// Grid on which noise_level's maximum is taken; it holds t = 0, 0.5 and 1,
// where the usual noise levels peak.
constexpr int64_t kNoiseLevelGridPoints = 1001;

constexpr double kPi = 3.14159265358979323846;

double max_noise_level(const NoiseLevel& noise_level) {
  const torch::Tensor t = torch::linspace(0.0, 1.0, kNoiseLevelGridPoints, torch::kDouble);
  const torch::Tensor sigma = noise_level(t);
  TORCH_CHECK(sigma.defined() && sigma.dim() == 1 && sigma.size(0) == kNoiseLevelGridPoints,
              "eps schedule noise_level: the noise level must return one value per time [",
              kNoiseLevelGridPoints, "], got ", sigma.defined() ? c10::str(sigma.sizes()) : "an undefined tensor");
  const torch::Tensor values = sigma.detach().to(torch::kCPU, torch::kDouble);
  if (!torch::isfinite(values).all().item<bool>() || (values < 0).any().item<bool>()) {
    throw Error("eps schedule noise_level: the noise level must be finite and >= 0 on [0, 1]");
  }
  const double max = values.max().item<double>();
  if (!(max > 0.0)) throw Error("eps schedule noise_level: the noise level is 0 everywhere on [0, 1]");
  return max;
}

}  // namespace

EpsScheduleOptions EpsScheduleOptions::read(config::Node& node) {
  EpsScheduleOptions options;
  options.type = node.get_choice("eps_schedule", options.type, schedule_types(), "how eps(t) varies with t");
  options.eps = node.get<double>("eps", options.eps, "scale of eps(t): 0 gives the probability-flow ODE");
  node.expect(options.eps >= 0.0 && std::isfinite(options.eps), "eps", "a finite number >= 0");
  return options;
}

EpsSchedule make_eps_schedule(const EpsScheduleOptions& options, const NoiseLevel& noise_level) {
  const double eps = options.eps;
  if (!(eps >= 0.0) || !std::isfinite(eps)) {
    throw Error("eps schedule: eps must be a finite number >= 0, got " + std::to_string(eps));
  }
  if (options.type == "constant") {
    return [eps](const torch::Tensor& t) { return torch::full_like(t, eps); };
  }
  if (options.type == "linear_decay") {
    return [eps](const torch::Tensor& t) { return eps * (1.0 - t).clamp_min(0.0); };
  }
  if (options.type == "cosine_decay") {
    return [eps](const torch::Tensor& t) { return eps * torch::cos((kPi / 2.0) * t).square(); };
  }
  if (options.type == "noise_level") {
    if (!noise_level) throw Error("eps schedule noise_level: no noise level was given");
    const double scale = eps / max_noise_level(noise_level);
    return [scale, noise_level](const torch::Tensor& t) { return (scale * noise_level(t)).to(t.scalar_type()); };
  }
  throw Error(unknown_name("eps schedule", options.type, schedule_types()));
}

Diffusion diffusion_from_eps(const EpsSchedule& eps) {
  return [eps](const torch::Tensor& t) { return (2.0 * eps(t)).sqrt(); };
}

}  // namespace flowlab::solvers
