#pragma once
// A discriminator head on a network's trunk features (Network::features): one logit per
// sample. f-distill trains it on the frozen teacher's features at noised real and generated
// samples; its logit estimates log(p_teacher / q_generator) there.
//   features [B, W]:          Linear(W, W) - SiLU - Linear(W, 1)
//   features [B, C, h, w]:    Conv3x3(C, C) - GroupNorm - SiLU - Conv1x1(C, 1), averaged over h x w
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace flowlab::nn {

class DiscriminatorHead : public torch::nn::Module {
 public:
  /// For features of one sample shaped `feature_shape` ({W} or {C, h, w}); `groups` for the
  /// GroupNorm of image features (it must divide C; 1 when it does not).
  explicit DiscriminatorHead(const std::vector<int64_t>& feature_shape, int64_t groups = 32);
  /// features [B, ...] -> logits [B].
  torch::Tensor forward(const torch::Tensor& features);

 private:
  torch::nn::Sequential layers_{nullptr};
  bool spatial_ = false;
};

}  // namespace flowlab::nn
