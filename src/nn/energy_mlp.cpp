#include "flowlab/nn/energy_mlp.h"

#include <torch/torch.h>

namespace flowlab::nn {

EnergyMlp::EnergyMlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs)
    : EnergyNetwork(outputs, options.num_classes) {
  scalar_ = register_module("energy", std::make_shared<Mlp>(options, shape, outputs, /*scalars=*/true));
}

torch::Tensor EnergyMlp::energy(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  return scalar_->forward(x, t, condition);
}

}  // namespace flowlab::nn
