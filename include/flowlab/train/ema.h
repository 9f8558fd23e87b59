#pragma once
// Exponential moving average of a network's parameters (used for sampling).
#include <torch/nn/module.h>

namespace flowlab::train {

/// ema <- decay * ema + (1 - decay) * online, for every parameter; buffers are copied.
void ema_update(torch::nn::Module& ema, const torch::nn::Module& online, double decay);

/// Copies every parameter and buffer of `from` into `to` (same architecture).
void copy_weights(torch::nn::Module& to, const torch::nn::Module& from);

}  // namespace flowlab::train
