#include "flowlab/paths/prediction.h"

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab::paths {

const std::vector<std::string>& prediction_names() {
  static const std::vector<std::string> names{"velocity", "noise",  "data",
                                                      "denoiser", "score", "interpolant_velocity"};
  return names;
}

Prediction parse_prediction(const std::string& name) {
  const auto& names = prediction_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<Prediction>(i);
  }
  throw ConfigError(unknown_name("prediction", name, names));
}

std::string to_string(Prediction p) { return prediction_names().at(static_cast<std::size_t>(p)); }

const std::string& describe(Prediction p) {
  static const std::vector<std::string> meanings{
      "the velocity b = E[d/dt x_t | x_t]",
      "E[x0 | x_t] (Gaussian source)",
      "E[x1 | x_t]",
      "the denoiser eta_z = E[z | x_t] (paths with gamma > 0)",
      "the score grad log rho_t",
      "v = E[d/dt (alpha x0 + beta x1) | x_t], the velocity without its gamma z part"};
  return meanings.at(static_cast<std::size_t>(p));
}

}  // namespace flowlab::paths
