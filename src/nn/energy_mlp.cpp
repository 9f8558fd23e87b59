#include "flowlab/nn/energy_mlp.h"

#include <torch/torch.h>

namespace flowlab::nn {

EnergyMlp::EnergyMlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs) : Network(outputs) {
  scalar_ = register_module("energy", std::make_shared<Mlp>(options, shape, outputs, /*scalars=*/true));
}

torch::Tensor EnergyMlp::energy(const torch::Tensor& x, const torch::Tensor& t) { return scalar_->forward(x, t); }

torch::Tensor EnergyMlp::forward(const torch::Tensor& x, const torch::Tensor& t) {
  // Recorded gradients stay in the graph (training, or a caller taking the field's Jacobian);
  // under NoGradGuard (sampling) the field is computed all the same, then detached.
  const bool keep_graph = torch::GradMode::is_enabled();
  torch::AutoGradMode enable(true);
  const torch::Tensor input = x.requires_grad() ? x : x.detach().requires_grad_(true);
  const torch::Tensor energies = scalar_->forward(input, t);
  std::vector<torch::Tensor> fields;
  for (int64_t k = 0; k < outputs(); ++k) {
    fields.push_back(-torch::autograd::grad({energies.select(1, k).sum()}, {input}, {}, /*retain_graph=*/true,
                                            /*create_graph=*/keep_graph)[0]);
  }
  torch::Tensor field = torch::cat(fields, 1);
  return keep_graph ? field : field.detach();
}

}  // namespace flowlab::nn
