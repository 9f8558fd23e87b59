#include "flowlab/nn/energy_network.h"

#include <torch/torch.h>

namespace flowlab::nn {

torch::Tensor EnergyNetwork::forward(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  // Recorded gradients stay in the graph (training, or a caller taking the field's Jacobian);
  // under NoGradGuard (sampling) the field is computed all the same, then detached.
  const bool keep_graph = torch::GradMode::is_enabled();
  torch::AutoGradMode enable(true);
  const torch::Tensor input = x.requires_grad() ? x : x.detach().requires_grad_(true);
  const torch::Tensor energies = energy(input, t, condition);
  std::vector<torch::Tensor> fields;
  for (int64_t k = 0; k < outputs(); ++k) {
    fields.push_back(-torch::autograd::grad({energies.select(1, k).sum()}, {input}, {}, /*retain_graph=*/true,
                                            /*create_graph=*/keep_graph)[0]);
  }
  torch::Tensor field = torch::cat(fields, 1);
  return keep_graph ? field : field.detach();
}

}  // namespace flowlab::nn
