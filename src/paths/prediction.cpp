#include "flowlab/paths/prediction.h"

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab::paths {

const std::vector<std::string>& prediction_names() {
  static const std::vector<std::string> names{"velocity", "noise", "data", "denoiser", "score"};
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

}  // namespace flowlab::paths
