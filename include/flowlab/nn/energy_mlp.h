#pragma once
// `energy_mlp`: an MLP on [flatten(x), embed(t)] with one scalar output per field, E_k(x, t);
// the field is -grad_x E_k (energy_network.h).
#include <memory>

#include "flowlab/nn/energy_network.h"
#include "flowlab/nn/mlp.h"

namespace flowlab::nn {

class EnergyMlp : public EnergyNetwork {
 public:
  EnergyMlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs = 1);
  torch::Tensor energy(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition = {}) override;

 private:
  std::shared_ptr<Mlp> scalar_;
};

}  // namespace flowlab::nn
