#include "flowlab/nn/discriminator_head.h"

#include <torch/torch.h>

namespace flowlab::nn {

DiscriminatorHead::DiscriminatorHead(const std::vector<int64_t>& feature_shape, int64_t groups) {
  TORCH_CHECK(feature_shape.size() == 1 || feature_shape.size() == 3,
              "discriminator head: features must be [W] or [C, h, w] per sample, got ", feature_shape.size(),
              " dimensions");
  spatial_ = feature_shape.size() == 3;
  const int64_t width = feature_shape[0];
  if (spatial_) {
    const int64_t g = width % groups == 0 ? groups : 1;
    layers_ = torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(width, width, 3).padding(1)),
                                    torch::nn::GroupNorm(g, width), torch::nn::SiLU(),
                                    torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 1, 1)));
  } else {
    layers_ = torch::nn::Sequential(torch::nn::Linear(width, width), torch::nn::SiLU(), torch::nn::Linear(width, 1));
  }
  register_module("layers", layers_);
}

torch::Tensor DiscriminatorHead::forward(const torch::Tensor& features) {
  const torch::Tensor logits = layers_->forward(features);
  return spatial_ ? logits.flatten(1).mean(1) : logits.squeeze(1);
}

}  // namespace flowlab::nn
