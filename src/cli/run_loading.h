#pragma once
// Reading a run directory back: its resolved config and a checkpoint.
#include <memory>
#include <optional>
#include <string>

#include "flowlab/train/experiment.h"

namespace flowlab::cli {

struct LoadedRun {
  std::unique_ptr<train::Experiment> experiment;
  std::string checkpoint;
  int64_t step = 0;
};

/// Builds the experiment of `run_dir`/config.yaml (with `overrides` applied) and
/// loads `checkpoint` (default: the newest) into its networks.
LoadedRun load_run(const std::string& run_dir, const std::vector<std::string>& overrides,
                   const std::optional<std::string>& checkpoint);

}  // namespace flowlab::cli
