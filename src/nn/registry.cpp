#include <torch/torch.h>

#include "flowlab/nn/mlp.h"
#include "flowlab/nn/network.h"

namespace flowlab::nn {

Registry<Network, const SampleShape&, int64_t>& network_registry() {
  static Registry<Network, const SampleShape&, int64_t> registry("networks");
  return registry;
}

void register_builtin_networks() {
  if (network_registry().contains("mlp")) return;  // already registered
  network_registry().add_component<Mlp, MlpOptions>(
      "mlp", "multilayer perceptron on [flatten(x), embed(t)], optional residual blocks");
}

}  // namespace flowlab::nn
