#include "flowlab/nn/residual_energy.h"

#include <torch/torch.h>

namespace flowlab::nn {

ResidualEnergy::ResidualEnergy(std::shared_ptr<Network> inner) : EnergyNetwork(inner->outputs(), inner->num_classes()) {
  inner_ = register_module("network", std::move(inner));
}

torch::Tensor ResidualEnergy::energy(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  const torch::Tensor out = inner_->forward(x, t, condition);  // [B, outputs * C, ...]
  const int64_t batch = x.size(0);
  const auto residual = x.reshape({batch, 1, -1}) - out.reshape({batch, outputs(), -1});
  return 0.5 * residual.pow(2).sum(2);  // [B, outputs]
}

}  // namespace flowlab::nn
