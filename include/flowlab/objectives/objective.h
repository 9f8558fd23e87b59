#pragma once
// Training objectives: a scalar loss from a network, a path and a batch of
// endpoint pairs (x0 from the source, x1 from the data).
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>

#include "flowlab/core/registry.h"
#include "flowlab/nn/network.h"
#include "flowlab/paths/path.h"

namespace flowlab::objectives {

class Objective {
 public:
  virtual ~Objective() = default;
  /// Loss on endpoints x0, x1 [B, ...] (on the training device); `gen` (CPU)
  /// draws times and latents, so the loss sequence is reproducible.
  virtual torch::Tensor loss(nn::Network& network, const paths::Path& path, const torch::Tensor& x0,
                             const torch::Tensor& x1, at::Generator& gen) const = 0;
};

/// Draws t [n] in [0, 1] by name ("uniform").
torch::Tensor sample_times(const std::string& sampler, int64_t n, at::Generator& gen);

/// The "objectives" family: flow_matching.
Registry<Objective>& objective_registry();
void register_builtin_objectives();

}  // namespace flowlab::objectives
