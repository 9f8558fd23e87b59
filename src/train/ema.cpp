#include "flowlab/train/ema.h"

#include <torch/torch.h>

#include "flowlab/train/flat_parameters.h"

namespace flowlab::train {

void ema_update(torch::nn::Module& ema, const torch::nn::Module& online, double decay) {
  torch::NoGradGuard no_grad;
  const auto target = ema.parameters();
  const auto source = online.parameters();
  TORCH_CHECK(target.size() == source.size(), "ema: parameter counts differ");
  // Online parameters in one buffer (the optimizer packs them): the average is two operations.
  const torch::Tensor flat_source = flat_view(source);
  if (flat_source.defined() && !target.empty() && target[0].scalar_type() == flat_source.scalar_type() &&
      target[0].device() == flat_source.device()) {
    const torch::Tensor flat_target = pack_contiguously(target);
    TORCH_CHECK(flat_target.numel() == flat_source.numel(), "ema: parameter sizes differ");
    flat_target.mul_(decay).add_(flat_source, 1.0 - decay);
  } else {
    for (std::size_t i = 0; i < target.size(); ++i) {
      target[i].mul_(decay).add_(source[i].detach(), 1.0 - decay);
    }
  }
  const auto target_buffers = ema.buffers();
  const auto source_buffers = online.buffers();
  for (std::size_t i = 0; i < target_buffers.size(); ++i) target_buffers[i].copy_(source_buffers[i]);
}

void copy_weights(torch::nn::Module& to, const torch::nn::Module& from) {
  ema_update(to, from, 0.0);
}

}  // namespace flowlab::train
