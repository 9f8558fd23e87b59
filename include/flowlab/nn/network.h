#pragma once
// Networks map (x [B, ...], t [B], condition) to `outputs()` tensors shaped like x,
// stacked along dimension 1 (channels): [B, outputs * C, ...]. What each output
// means is the Model's business (nn/model.h); networks only compute. A network
// with num_classes() > 0 is class-conditional: it reads condition.labels, and an
// empty condition or the null class gives its unconditional field.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "flowlab/core/registry.h"
#include "flowlab/data/condition.h"

namespace flowlab::nn {

class Network : public torch::nn::Module {
 public:
  explicit Network(int64_t outputs, int64_t num_classes = 0) : outputs_(outputs), num_classes_(num_classes) {}
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                                const data::Condition& condition = {}) = 0;
  /// What the trunk computes at (x, t, condition) before the output layers: the features a
  /// discriminator head reads (f-distill puts its head on the teacher's). [B, W] for an MLP (its
  /// last hidden layer), [B, C, h, w] for a U-Net (its middle block). Throws Error for networks
  /// without such features.
  virtual torch::Tensor features(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition = {});
  /// Multiply-adds of one sample's forward pass where the network knows them exactly (an MLP:
  /// the sum of its layers' in x out); -1 where it does not (convolutions: it depends on the
  /// resolution). The trainer's thread choice reads it.
  virtual int64_t multiply_adds_per_sample() const { return -1; }
  /// Fields computed at once (heads sharing one trunk).
  int64_t outputs() const { return outputs_; }
  /// Classes of a class-conditional network; 0 for an unconditional one.
  int64_t num_classes() const { return num_classes_; }

 private:
  int64_t outputs_;
  int64_t num_classes_;
};

/// Shape of one data sample, e.g. {2} or {1, 28, 28}.
using SampleShape = std::vector<int64_t>;

/// The "networks" family: built from a `model:` section for data of a shape, with a number of outputs.
Registry<Network, const SampleShape&, int64_t>& network_registry();
void register_builtin_networks();

}  // namespace flowlab::nn
