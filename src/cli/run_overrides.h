#pragma once
// Command-line flags of the commands that reopen a run (train/run.h), as config overrides.
#include <memory>
#include <optional>
#include <string>

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

}  // namespace flowlab::cli
