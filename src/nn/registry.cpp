#include <torch/torch.h>

#include "flowlab/nn/energy_mlp.h"
#include "flowlab/nn/mlp.h"
#include "flowlab/nn/residual_energy.h"
#include "flowlab/nn/unet.h"
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

// The U-Net's options, checked against the image shape it is built for.
UNetOptions read_unet(config::Node& node, const SampleShape& shape) {
  UNetOptions o = UNetOptions::read(node);
  if (node.describing()) return o;
  if (shape.size() != 3) {
    node.fail("type", "unet needs image samples [C, H, W] (data shape: image), got " +
                          std::to_string(shape.size()) + " dimensions");
  }
  const int64_t factor = int64_t{1} << (o.channel_mult.size() - 1);
  if (shape[1] % factor != 0 || shape[2] % factor != 0) {
    node.fail("channel_mult", std::to_string(o.channel_mult.size()) + " levels halve the image " +
                                  std::to_string(o.channel_mult.size() - 1) + " times, so H and W must be multiples of " +
                                  std::to_string(factor) + "; the images are " + std::to_string(shape[1]) + " x " +
                                  std::to_string(shape[2]));
  }
  for (int64_t w : UNet::normalised_widths(o, shape[0], shape[1])) {
    if (w % o.groups != 0) {
      node.fail("groups", std::to_string(o.groups) + " GroupNorm groups do not divide a normalised width of " +
                              std::to_string(w) + " channels (choose groups dividing channels * every channel_mult "
                              "and the decoder's concatenated widths)");
    }
  }
  for (int64_t m : o.channel_mult) {  // attention runs at level widths only
    const int64_t w = o.channels * m;
    if (o.head_channels > 0 ? w % o.head_channels != 0 : w % o.num_heads != 0) {
      node.fail(o.head_channels > 0 ? "head_channels" : "num_heads",
                "attention heads must split the level width " + std::to_string(w) + " evenly");
    }
  }
  return o;
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
      "unet",
      "the ADM/DDPM U-Net for images [C, H, W]: residual blocks with GroupNorm, SiLU and time (and class) "
      "conditioning, self-attention at chosen resolutions, zero-initialised output",
      [](config::Node& node, const SampleShape& shape, int64_t outputs) -> std::unique_ptr<Network> {
        return std::make_unique<UNet>(read_unet(node, shape), shape, outputs);
      },
      [](config::Node& node) {
        ModelOptions::read(node);
        UNetOptions::read(node);
      });
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
