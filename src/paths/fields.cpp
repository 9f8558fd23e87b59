#include "flowlab/paths/fields.h"

namespace flowlab::paths {

solvers::Field velocity_field(NetworkFn network, Prediction kind, const Path& path) {
  path.check_convertible(kind);
  return [network = std::move(network), kind, &path](const torch::Tensor& x, const torch::Tensor& t) {
    return path.to_velocity(kind, network(x, t), x, t);
  };
}

solvers::Field score_field(NetworkFn network, Prediction kind, const Path& path) {
  path.check_convertible(kind);
  return [network = std::move(network), kind, &path](const torch::Tensor& x, const torch::Tensor& t) {
    return path.to_score(kind, network(x, t), x, t);
  };
}

}  // namespace flowlab::paths
