#include <torch/torch.h>

#include "flowlab/nn/energy_mlp.h"
#include "flowlab/nn/mlp.h"
#include "flowlab/nn/model.h"
#include "flowlab/nn/network.h"

namespace flowlab::nn {

Registry<Network, const SampleShape&, int64_t>& network_registry() {
  static Registry<Network, const SampleShape&, int64_t> registry("networks");
  return registry;
}

void register_builtin_networks() {
  if (network_registry().contains("mlp")) return;  // already registered
  // `flowlab list networks` also shows the model keys (predicts, also_predicts, heads) every network takes.
  network_registry().add(
      "mlp", "multilayer perceptron on [flatten(x), embed(t)], optional residual blocks",
      [](config::Node& node, const SampleShape& shape, int64_t outputs) -> std::unique_ptr<Network> {
        return std::make_unique<Mlp>(MlpOptions::read(node), shape, outputs);
      },
      [](config::Node& node) {
        ModelOptions::read(node);
        MlpOptions::read(node);
      });
  network_registry().add(
      "energy_mlp",
      "energy network: a scalar MLP E(x, t) per field, whose field is -grad_x E (conservative by construction, "
      "trained by double backpropagation; a smooth activation such as silu gives it a nonzero Hessian)",
      [](config::Node& node, const SampleShape& shape, int64_t outputs) -> std::unique_ptr<Network> {
        return std::make_unique<EnergyMlp>(MlpOptions::read(node), shape, outputs);
      },
      [](config::Node& node) {
        ModelOptions::read(node);
        MlpOptions::read(node);
      });
}

}  // namespace flowlab::nn
