#include <torch/torch.h>

#include "flowlab/nn/mlp.h"
#include "flowlab/nn/network.h"

namespace flowlab::nn {

Registry<Network, const SampleShape&>& network_registry() {
  static Registry<Network, const SampleShape&> registry("networks");
  return registry;
}

void register_builtin_networks() {
  network_registry().add_component<Mlp, MlpOptions>(
      "mlp", "multilayer perceptron on [flatten(x), embed(t)], optional residual blocks");
}

std::shared_ptr<Network> make_network(config::Node& model, const SampleShape& shape) {
  return std::shared_ptr<Network>(network_registry().create(model, shape));
}

}  // namespace flowlab::nn
