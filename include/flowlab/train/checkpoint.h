#pragma once
// Checkpoints: one file per saved step, written atomically, versioned.
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace flowlab::train {

/// What a checkpoint holds besides the networks.
struct CheckpointMeta {
  int64_t step = 0;
  std::string config_yaml;  ///< the resolved config of the run
  /// Tensors that define the path beyond its config (paths::Path::state), e.g. a tabulated
  /// schedule computed from data, so sampling never needs that data.
  std::vector<std::pair<std::string, torch::Tensor>> path_state;
};

/// Writes model, EMA model, optimizer state and generator state atomically.
void save_checkpoint(const std::string& file, const CheckpointMeta& meta, torch::nn::Module& model,
                     torch::nn::Module& ema, torch::optim::Optimizer& optimizer, const at::Generator& gen);

/// Restores what save_checkpoint wrote. Missing, truncated or foreign files throw
/// Error naming the file. Any pointer may be null to skip that part.
CheckpointMeta load_checkpoint(const std::string& file, torch::nn::Module* model, torch::nn::Module* ema,
                               torch::optim::Optimizer* optimizer, at::Generator* gen);

/// "<dir>/step_000001234.pt".
std::string checkpoint_file(const std::string& dir, int64_t step);
/// Checkpoint files in `dir`, oldest step first.
std::vector<std::string> list_checkpoints(const std::string& dir);
/// The newest checkpoint in `dir`; throws Error when there is none.
std::string latest_checkpoint(const std::string& dir);
/// Deletes all but the newest `keep` checkpoints (keep <= 0 keeps all).
void prune_checkpoints(const std::string& dir, int64_t keep);

}  // namespace flowlab::train
