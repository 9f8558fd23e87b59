#pragma once
// Reopening a run directory from C++: its resolved config and a checkpoint, ready to sample,
// evaluate or diagnose. `flowlab sample`, `eval`, `diagnose` and `path-energy` start here.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flowlab/train/experiment.h"

namespace flowlab::train {

/// Where a trained network comes from inside another run's config (`teacher: {run: DIR,
/// checkpoint: FILE}`, `eval.features: {run: DIR}`).
struct TeacherOptions {
  std::string run;                        ///< the run directory
  std::optional<std::string> checkpoint;  ///< default: its newest
  /// Reads run and checkpoint (other keys of the section are the caller's).
  static TeacherOptions read(config::Node& node);
};

struct LoadedRun {
  std::unique_ptr<Experiment> experiment;
  std::string checkpoint;  ///< the file loaded
  int64_t step = 0;        ///< its training step
};

/// Builds the experiment of `run_dir`/config.yaml (with `overrides`, "KEY=VALUE" as for --set,
/// applied) and loads `checkpoint` (default: the newest) into its model, EMA model and path.
/// The run directory is wherever it is now: run.dir and run.name are set from `run_dir`.
/// Throws Error for a directory that is not a run, or a missing or corrupt checkpoint.
LoadedRun load_run(const std::string& run_dir, const std::vector<std::string>& overrides = {},
                   const std::optional<std::string>& checkpoint = std::nullopt);

/// Throws ConfigError unless the run in `run_dir` samples (a flow task: a model on a path);
/// `command` names what needed it, e.g. "flowlab sample". Reads only its config's `task:`, so
/// it can be asked before overrides that only a flow task knows are applied.
void require_flow(const std::string& run_dir, const std::string& command);

}  // namespace flowlab::train
