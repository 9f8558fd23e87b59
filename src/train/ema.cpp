#include "flowlab/train/ema.h"

#include <torch/torch.h>

#include "flowlab/train/flat_parameters.h"

namespace flowlab::train {
namespace {

// ema <- decay * ema + (1 - decay) * online as one pass (lerp); decay 0 copies exactly.
void average_into(const torch::Tensor& ema, const torch::Tensor& online, double decay) {
  if (decay == 0.0) {
    ema.copy_(online);
  } else {
    ema.lerp_(online, 1.0 - decay);
  }
}

}  // namespace

void ema_update(torch::nn::Module& ema, const torch::nn::Module& online, double decay) {
  torch::NoGradGuard no_grad;
  const auto target = ema.parameters();
  const auto source = online.parameters();
  TORCH_CHECK(target.size() == source.size(), "ema: parameter counts differ");
  // Online parameters in one buffer (the optimizer packs them): the average is one operation.
  const torch::Tensor flat_source = flat_view(source);
  if (flat_source.defined() && !target.empty() && target[0].scalar_type() == flat_source.scalar_type() &&
      target[0].device() == flat_source.device()) {
    const torch::Tensor flat_target = pack_contiguously(target);
    TORCH_CHECK(flat_target.numel() == flat_source.numel(), "ema: parameter sizes differ");
    average_into(flat_target, flat_source, decay);
  } else {
    for (std::size_t i = 0; i < target.size(); ++i) {
      average_into(target[i], source[i].detach(), decay);
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
