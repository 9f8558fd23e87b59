#include <torch/torch.h>

#include "flowlab/core/error.h"
#include "flowlab/nn/network.h"

namespace flowlab::nn {

torch::Tensor Network::features(const torch::Tensor&, const torch::Tensor&, const data::Condition&) {
  throw Error("this network exposes no features (the mlp and unet networks do)");
}

}  // namespace flowlab::nn
