#pragma once
// Energy networks: a scalar E(x, t) per output, an MLP on [flatten(x), embed(t)], whose field is
// -grad_x E. Conservative by construction (the field's Jacobian is minus a Hessian, symmetric),
// so every prediction of the paths issue can be trained as a gradient field. The gradient is
// taken inside forward() with autograd; when gradients are being recorded (training, or a
// caller differentiating the field) it is kept in the graph, so the loss reaches the weights by
// double backpropagation.
#include <memory>

#include "flowlab/nn/mlp.h"
#include "flowlab/nn/network.h"

namespace flowlab::nn {

class EnergyMlp : public Network {
 public:
  EnergyMlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs = 1);
  /// -grad_x E_k(x, t) for each output k, stacked along dimension 1: [B, outputs * C, ...].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t) override;
  /// The energies E(x, t): [B, outputs].
  torch::Tensor energy(const torch::Tensor& x, const torch::Tensor& t);

 private:
  std::shared_ptr<Mlp> scalar_;
};

}  // namespace flowlab::nn
