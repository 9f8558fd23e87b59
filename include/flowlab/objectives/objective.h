#pragma once
// Training objectives: a scalar loss from a network, a path and a batch of
// endpoint pairs (x0 from the source, x1 from the data) and the data's condition.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>

#include "flowlab/core/registry.h"
#include "flowlab/data/batch_shard.h"
#include "flowlab/nn/model.h"
#include "flowlab/paths/path.h"

namespace flowlab::objectives {

class Objective {
 public:
  virtual ~Objective() = default;
  /// Loss on endpoints x0, x1 [B, ...] (on the training device) for every field of `model`,
  /// conditioned on `condition` (x1's labels for a class-conditional model, else empty);
  /// `gen` (CPU) draws times and latents, so the loss sequence is reproducible. In data-parallel
  /// training x0, x1 and the condition are this process's `shard` of the batch: the objective
  /// draws for the whole batch and keeps the shard's rows, so the draws do not depend on it.
  virtual torch::Tensor loss(nn::Model& model, const paths::Path& path, const torch::Tensor& x0,
                             const torch::Tensor& x1, at::Generator& gen, const data::Condition& condition = {},
                             const data::BatchShard& shard = {}) const = 0;
  /// Whether the loss couples the samples of a batch (not a mean of per-sample terms): shared
  /// among processes, each computes it on its own share, as PyTorch's DDP does.
  virtual bool couples_batch() const { return false; }
  /// Throws Error when the objective's options do not apply to `path`.
  virtual void check_path(const paths::Path& /*path*/) const {}
  /// Whether a conditional model also learns its unconditional field (labels dropped to the
  /// null class), which classifier-free guidance and unconditional sampling need.
  virtual bool trains_unconditional() const { return false; }
};

/// How training times t in [0, 1] are drawn.
struct TimeSamplerOptions {
  std::string type = "uniform";  ///< uniform | logit_normal | stratified
  double logit_mean = 0.0;       ///< logit_normal: mean of logit(t)
  double logit_std = 1.0;        ///< logit_normal: std of logit(t)
  /// Reads `time_sampler` (and, for logit_normal, logit_mean and logit_std) from an objective section.
  static TimeSamplerOptions read(config::Node& node);
};

/// Draws t [n]: uniform on [0, 1]; logit-normal (t = sigmoid(m + s N(0, 1))); or
/// stratified (one uniform draw in each of the n bins [i/n, (i+1)/n), in random order).
torch::Tensor sample_times(const TimeSamplerOptions& sampler, int64_t n, at::Generator& gen);

/// The "objectives" family: flow_matching.
Registry<Objective>& objective_registry();
void register_builtin_objectives();

}  // namespace flowlab::objectives
