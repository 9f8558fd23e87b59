#include "flowlab/train/run.h"

#include <torch/torch.h>

#include <filesystem>
#include <tuple>

#include "flowlab/core/error.h"
#include "flowlab/train/checkpoint.h"
#include "flowlab/train/task.h"

namespace flowlab::train {

TeacherOptions TeacherOptions::read(config::Node& node) {
  TeacherOptions o;
  o.run = node.require<std::string>("run", "run directory of the trained network");
  const std::string checkpoint = node.get<std::string>("checkpoint", "", "checkpoint file; \"\" for the newest");
  if (!checkpoint.empty()) o.checkpoint = checkpoint;
  return o;
}

LoadedRun load_run(const std::string& run_dir, const std::vector<std::string>& overrides,
                   const std::optional<std::string>& checkpoint) {
  const std::string config_file = run_dir + "/config.yaml";
  if (!std::filesystem::is_regular_file(config_file)) {
    throw Error(run_dir + " is not a flowlab run directory (no config.yaml)");
  }
  config::Node config = config::Node::load_file(config_file);
  // The run directory is wherever it is now, not where it was trained.
  const std::filesystem::path dir = std::filesystem::path(run_dir).lexically_normal();
  std::string name = dir.filename().string();
  if (name.empty()) name = dir.parent_path().filename().string();
  config.apply_override("run.name=" + name);
  config.apply_override("run.dir=" + (dir.has_parent_path() ? dir.parent_path().string() : std::string(".")));
  for (const auto& o : overrides) config.apply_override(o);
  LoadedRun run;
  run.experiment = std::make_unique<Experiment>(config);
  CheckpointParts parts;
  parts.modules = run.experiment->task->modules();  // every module and its EMA; no optimizer or generator
  // A named checkpoint is that file or an error; otherwise the newest that reads.
  CheckpointMeta meta;
  if (checkpoint) {
    run.checkpoint = *checkpoint;
    meta = load_checkpoint(run.checkpoint, parts);
  } else {
    std::tie(run.checkpoint, meta) = load_newest_checkpoint(run.experiment->checkpoint_dir(), parts);
  }
  run.step = meta.step;
  run.experiment->task->load_state(meta.task_state);
  return run;
}

void require_flow(const std::string& run_dir, const std::string& command) {
  const std::string config_file = run_dir + "/config.yaml";
  if (!std::filesystem::is_regular_file(config_file)) return;  // load_run says what is wrong
  config::Node config = config::Node::load_file(config_file);
  const std::string task = config.get<std::string>("task", "flow_matching");
  if (is_flow_task(task)) return;
  throw ConfigError(command + ": " + run_dir + " is a " + task +
                    " run; it has no model on a path to sample (flowlab eval scores it)");
}

}  // namespace flowlab::train
