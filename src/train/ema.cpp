#include "flowlab/train/ema.h"

#include <torch/torch.h>

namespace flowlab::train {

void ema_update(torch::nn::Module& ema, const torch::nn::Module& online, double decay) {
  torch::NoGradGuard no_grad;
  const auto target = ema.parameters();
  const auto source = online.parameters();
  TORCH_CHECK(target.size() == source.size(), "ema: parameter counts differ");
  for (std::size_t i = 0; i < target.size(); ++i) {
    target[i].mul_(decay).add_(source[i].detach(), 1.0 - decay);
  }
  const auto target_buffers = ema.buffers();
  const auto source_buffers = online.buffers();
  for (std::size_t i = 0; i < target_buffers.size(); ++i) target_buffers[i].copy_(source_buffers[i]);
}

void copy_weights(torch::nn::Module& to, const torch::nn::Module& from) {
  ema_update(to, from, 0.0);
}

}  // namespace flowlab::train
