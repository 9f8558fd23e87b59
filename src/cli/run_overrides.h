#pragma once
// Command-line flags of the commands that reopen a run (train/run.h), as config overrides.
#include <memory>
#include <optional>
#include <string>

#include "flowlab/distributed/launch.h"
#include "flowlab/distributed/process_group.h"
#include "flowlab/train/run.h"

namespace flowlab::cli {

using train::LoadedRun;
using train::load_run;

/// `--sde` and `--eps E` as config overrides (sample.sde.enabled, sample.sde.eps); --eps implies --sde.
void add_sde_overrides(bool sde, const std::optional<double>& eps, std::vector<std::string>& overrides);

/// `--class K` (repeatable), `--classes all|none` and `--guidance W` as config overrides
/// (sample.class, sample.classes, sample.guidance).
void add_class_overrides(const std::vector<int64_t>& classes, const std::optional<std::string>& mode,
                         const std::optional<double>& guidance, std::vector<std::string>& overrides);

/// This process's place in a run that a launcher started in several processes (torchrun,
/// RANK/WORLD_SIZE...): the group, joined within train.data_parallel.timeout_s; null for one process.
std::unique_ptr<distributed::ProcessGroup> join_launched_group(const distributed::LaunchEnvironment& launch,
                                                               const train::Experiment& exp);

}  // namespace flowlab::cli
