#include <torch/torch.h>

#include "flowlab/nn/energy_mlp.h"
#include "flowlab/nn/mlp.h"
#include "flowlab/nn/residual_energy.h"
#include "flowlab/nn/model.h"
#include "flowlab/nn/network.h"

namespace flowlab::nn {

Registry<Network, const SampleShape&, int64_t>& network_registry() {
  static Registry<Network, const SampleShape&, int64_t> registry("networks");
  return registry;
}

namespace {

// The options `flowlab list` shows for MLP-based networks: the model keys and the MLP's.
void read_mlp_model(config::Node& node) {
  ModelOptions::read(node);
  MlpOptions::read(node);
}

}  // namespace

void register_builtin_networks() {
  // `flowlab list networks` also shows the model keys (predicts, also_predicts, heads) every network takes.
  network_registry().add(
      "mlp", "multilayer perceptron on [flatten(x), embed(t)], optional residual blocks",
      [](config::Node& node, const SampleShape& shape, int64_t outputs) -> std::unique_ptr<Network> {
        return std::make_unique<Mlp>(MlpOptions::read(node), shape, outputs);
      },
      read_mlp_model);
  network_registry().add(
      "energy_mlp",
      "energy network: a scalar MLP E(x, t) per field, whose field is -grad_x E (conservative by construction, "
      "trained by double backpropagation; a smooth activation such as silu gives it a nonzero Hessian)",
      [](config::Node& node, const SampleShape& shape, int64_t outputs) -> std::unique_ptr<Network> {
        return std::make_unique<EnergyMlp>(MlpOptions::read(node), shape, outputs);
      },
      read_mlp_model);
  network_registry().add(
      "energy",
      "any network made conservative: E = |x - f(x, t)|^2 / 2 for the network f of the `network:` section "
      "(Salimans & Ho 2021), field -grad_x E",
      [](config::Node& node, const SampleShape& shape, int64_t outputs) -> std::unique_ptr<Network> {
        config::Node inner = node.section("network", "the network f (any type but energy)");
        const std::string type = inner.require<std::string>("type", "which network f is");
        inner.expect(type != "energy", "type", "a network other than energy");
        std::shared_ptr<Network> f(network_registry().create(inner, shape, outputs));
        return std::make_unique<ResidualEnergy>(std::move(f));
      },
      [](config::Node& node) {
        ModelOptions::read(node);
        node.section("network", "the network f (any type but energy): E = |x - f(x, t)|^2 / 2");
      });
}

}  // namespace flowlab::nn
