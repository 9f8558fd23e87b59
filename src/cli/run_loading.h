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

/// `--sde` and `--eps E` as config overrides (sample.sde.enabled, sample.sde.eps); --eps implies --sde.
void add_sde_overrides(bool sde, const std::optional<double>& eps, std::vector<std::string>& overrides);

}  // namespace flowlab::cli
