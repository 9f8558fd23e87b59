#pragma once
// Checkpoints: one file per saved step, written atomically, versioned. Format 3 holds named
// modules (each with an optional EMA copy), named optimizers, named generator states and the
// task's state; formats 1 and 2 (one model, its EMA, one optimizer, one generator) still load.
// A checkpoint is serialised in memory, then written with every write checked (a full disk is
// an Error naming the file, never an abort), and ends with a CRC-32 of its bytes after the zip
// archive (readers of PyTorch archives, torch.jit.load included, ignore it); a reader checks it.
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/train/task.h"

namespace flowlab::train {

/// What a checkpoint holds besides the modules, optimizers and generators.
struct CheckpointMeta {
  int64_t step = 0;
  std::string config_yaml;  ///< the resolved config of the run
  /// Tensors of the task beyond its modules (paths::Path::state for flow tasks), e.g. a
  /// tabulated schedule computed from data, so sampling never needs that data.
  TaskState task_state;
  int64_t format_version = 0;  ///< of the file read (load_checkpoint)
};

/// Where a checkpoint's parts come from (save) or go (load). Names are the keys in the file;
/// on load a null module, EMA, optimizer or generator is skipped, and so is every part not listed.
struct CheckpointParts {
  std::vector<TrainedModule> modules;
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers;
  std::vector<std::pair<std::string, at::Generator*>> generators;
};

/// The names formats 1 and 2 map onto: their model and EMA are module "model", their optimizer
/// "optimizer", their generator "train".
constexpr const char* kModelModule = "model";
constexpr const char* kMainOptimizer = "optimizer";
constexpr const char* kTrainingGenerator = "train";

/// A checkpoint whose bytes are not what was written: checksum mismatch, truncated, not an archive.
class CorruptCheckpoint : public Error {
 public:
  using Error::Error;
};

/// Writes every part atomically (format 3).
void save_checkpoint(const std::string& file, const CheckpointMeta& meta, const CheckpointParts& parts);

/// Restores what save_checkpoint wrote into `parts` (and the older formats). A corrupt file throws
/// CorruptCheckpoint before any part is touched; a missing file or part throws Error naming the file.
CheckpointMeta load_checkpoint(const std::string& file, const CheckpointParts& parts);

/// The newest checkpoint of `dir` that reads, loaded into `parts`: a corrupt newer one is skipped
/// with a warning naming it and the file loaded instead. Throws Error when none is left.
std::pair<std::string, CheckpointMeta> load_newest_checkpoint(const std::string& dir, const CheckpointParts& parts);

/// "<dir>/step_000001234.pt".
std::string checkpoint_file(const std::string& dir, int64_t step);
/// Checkpoint files in `dir`, oldest step first.
std::vector<std::string> list_checkpoints(const std::string& dir);
/// The newest checkpoint in `dir`; throws Error when there is none.
std::string latest_checkpoint(const std::string& dir);
/// Deletes the temporary files of checkpoints whose writing was cut short (a killed process).
void remove_unfinished_checkpoints(const std::string& dir);
/// Deletes all but the newest `keep` checkpoints (keep <= 0 keeps all).
void prune_checkpoints(const std::string& dir, int64_t keep);

}  // namespace flowlab::train
