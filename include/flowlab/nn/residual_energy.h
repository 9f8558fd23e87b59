#pragma once
// `energy`: any network made conservative. For a network f whose outputs are shaped like x,
// E_k(x, t) = |x - f_k(x, t)|^2 / 2 (the parametrisation of Salimans & Ho, "Should EBMs model the
// energy or the score?", 2021), so the field -grad E_k = -(I - J_fk)^T (x - f_k) is a gradient for
// any f, e.g. a U-Net.
#include <memory>

#include "flowlab/nn/energy_network.h"

namespace flowlab::nn {

class ResidualEnergy : public EnergyNetwork {
 public:
  /// `inner` computes `outputs` fields shaped like x.
  explicit ResidualEnergy(std::shared_ptr<Network> inner);
  torch::Tensor energy(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition = {}) override;

 private:
  std::shared_ptr<Network> inner_;
};

}  // namespace flowlab::nn
