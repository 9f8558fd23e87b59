#pragma once
// Energy networks: a scalar E_k(x, t) per output whose field is -grad_x E_k. Conservative by
// construction (the field's Jacobian is minus a Hessian, symmetric), so every prediction of a
// path can be trained as a gradient field. The gradient is taken inside forward() with autograd;
// when gradients are being recorded (training, or a caller differentiating the field) it stays in
// the graph, so the loss reaches the weights by double backpropagation.
#include "flowlab/nn/network.h"

namespace flowlab::nn {

class EnergyNetwork : public Network {
 public:
  using Network::Network;
  /// -grad_x E_k(x, t) for each output k, stacked along dimension 1: [B, outputs * C, ...].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                        const data::Condition& condition = {}) override;
  /// The energies E(x, t | condition): [B, outputs], differentiable in x.
  virtual torch::Tensor energy(const torch::Tensor& x, const torch::Tensor& t,
                               const data::Condition& condition = {}) = 0;
};

}  // namespace flowlab::nn
