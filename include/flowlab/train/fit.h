#pragma once
// A fit inside another computation, such as the potentials of the gauge decomposition: the
// trainer's optimizer, schedule and gradient step, without a run directory, checkpoints or logs.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>

namespace flowlab::train {

struct FitOptions {
  int64_t steps = 3000;
  double lr = 2e-3;        ///< Adam's, decayed by a cosine schedule to 0 at the last step
  double grad_clip = 0.0;  ///< max gradient norm; 0 disables clipping
};

/// `options.steps` updates of `module`'s parameters, each from loss(step).
void fit_module(torch::nn::Module& module, const std::function<torch::Tensor(int64_t step)>& loss,
                const FitOptions& options);

}  // namespace flowlab::train
