#pragma once
// Multilayer perceptron on [flatten(x), embed(t) + embed(class)], each output reshaped
// like x. With num_classes K > 0 a learned class embedding (K + 1 rows: the last is the
// null class of classifier-free guidance) is added to the time embedding.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include "flowlab/nn/affine_stack.h"
#include "flowlab/nn/network.h"
#include "flowlab/nn/time_embedding.h"

namespace flowlab::nn {

struct MlpOptions {
  std::vector<int64_t> hidden{256, 256, 256};  ///< hidden layer widths
  std::string activation = "silu";             ///< silu | relu | gelu | tanh | softplus
  bool residual = false;                       ///< h + act(W h) between equal widths
  TimeEmbeddingOptions time_embedding;
  int64_t num_classes = 0;                     ///< > 0: class-conditional (model.num_classes)
  static MlpOptions read(config::Node& node);
};

class Mlp : public Network {
 public:
  /// `outputs` fields, each shaped like a sample, stacked along dimension 1; with `scalars`, just
  /// `outputs` numbers per sample: [B, outputs] (the energies of energy networks).
  Mlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs = 1, bool scalars = false);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                        const data::Condition& condition = {}) override;
  int64_t multiply_adds_per_sample() const override;
  /// The last hidden layer's activations [B, W].
  torch::Tensor features(const torch::Tensor& x, const torch::Tensor& t,
                         const data::Condition& condition = {}) override;

 private:
  /// embed(t), plus the class embedding of the condition (the null class when it is empty).
  torch::Tensor embed(const torch::Tensor& t, const data::Condition& condition, int64_t batch);
  /// The hidden layers (and the output layer) of x, t: features() and forward() before reshaping.
  torch::Tensor stack(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition,
                      bool with_output);
  std::vector<AffineLayer> affine_layers(bool with_output) const;
  MlpOptions options_;
  SampleShape shape_;
  std::shared_ptr<TimeEmbeddingImpl> embedding_;
  torch::nn::Embedding class_embedding_{nullptr};  // [num_classes + 1, time dim] when conditional
  torch::nn::ModuleList layers_;               // owns the hidden layers (state_dict names)
  std::vector<torch::nn::Linear> hidden_;      // the same layers, typed, for forward()
  torch::nn::Linear output_{nullptr};
  bool scalars_ = false;
  std::vector<bool> residual_;  // per hidden layer
};

/// Row indices of the class embedding for `condition` over a batch: labels, with the null
/// class (and an empty condition) at row num_classes. Errors on labels outside [-1, num_classes).
torch::Tensor class_rows(const data::Condition& condition, int64_t num_classes, int64_t batch,
                         const torch::Device& device);

/// The activation `name` (one of activation_names()) applied to h.
torch::Tensor activate(const std::string& name, const torch::Tensor& h);

/// Activation names.
const std::vector<std::string>& activation_names();

}  // namespace flowlab::nn
