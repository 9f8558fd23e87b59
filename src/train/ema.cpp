#include "flowlab/train/ema.h"

#include <torch/torch.h>

#include "flowlab/train/flat_parameters.h"

namespace flowlab::train {
namespace {

template <class T>
void average_loop(T* ema, const T* online, int64_t n, double decay) {
  const T keep = static_cast<T>(decay), take = static_cast<T>(1.0 - decay);
  at::parallel_for(0, n, 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) ema[i] = keep * ema[i] + take * online[i];
  });
}

// ema <- decay * ema + (1 - decay) * online: one pass on the CPU, two operations elsewhere;
// decay 0 copies exactly.
void average_into(const torch::Tensor& ema, const torch::Tensor& online, double decay) {
  if (decay == 0.0) {
    ema.copy_(online);
  } else if (ema.is_cpu() && online.is_cpu() && ema.is_contiguous() && online.is_contiguous() &&
             ema.scalar_type() == online.scalar_type() && ema.scalar_type() == torch::kFloat32) {
    average_loop(ema.data_ptr<float>(), online.data_ptr<float>(), ema.numel(), decay);
  } else if (ema.is_cpu() && online.is_cpu() && ema.is_contiguous() && online.is_contiguous() &&
             ema.scalar_type() == online.scalar_type() && ema.scalar_type() == torch::kFloat64) {
    average_loop(ema.data_ptr<double>(), online.data_ptr<double>(), ema.numel(), decay);
  } else {
    ema.mul_(decay).add_(online, 1.0 - decay);
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
