#pragma once
// Multilayer perceptron on [flatten(x), embed(t)], each output reshaped like x.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include "flowlab/nn/network.h"
#include "flowlab/nn/time_embedding.h"

namespace flowlab::nn {

struct MlpOptions {
  std::vector<int64_t> hidden{256, 256, 256};  ///< hidden layer widths
  std::string activation = "silu";             ///< silu | relu | gelu | tanh | softplus
  bool residual = false;                       ///< h + act(W h) between equal widths
  TimeEmbeddingOptions time_embedding;
  static MlpOptions read(config::Node& node);
};

class Mlp : public Network {
 public:
  /// `outputs` fields, each shaped like a sample, stacked along dimension 1; with `scalars`, just
  /// `outputs` numbers per sample: [B, outputs] (the energies of energy networks).
  Mlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs = 1, bool scalars = false);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t) override;

 private:
  torch::Tensor activate(const torch::Tensor& h) const;
  MlpOptions options_;
  SampleShape shape_;
  std::shared_ptr<TimeEmbeddingImpl> embedding_;
  torch::nn::ModuleList layers_;               // owns the hidden layers (state_dict names)
  std::vector<torch::nn::Linear> hidden_;      // the same layers, typed, for forward()
  torch::nn::Linear output_{nullptr};
  bool scalars_ = false;
  std::vector<bool> residual_;  // per hidden layer
};

/// Activation names.
const std::vector<std::string>& activation_names();

}  // namespace flowlab::nn
