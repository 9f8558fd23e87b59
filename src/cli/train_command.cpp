#include <ATen/Parallel.h>

#include <chrono>

#include "commands.h"
#include "run_overrides.h"
#include "flowlab/core/log.h"
#include "flowlab/distributed/launch.h"
#include "flowlab/distributed/process_group.h"
#include "flowlab/train/trainer.h"

namespace flowlab::cli {

int train_command(const TrainArgs& args) {
  // A launcher (torchrun, srun, by hand) that starts several processes says so in the environment.
  const distributed::LaunchEnvironment launch = distributed::read_launch_environment();
  set_log_rank(launch.rank);
  config::Node config = config::Node::load_file(args.config);
  for (const auto& o : args.overrides) config.apply_override(o);
  train::Experiment experiment(config);
  log_info("training " + args.config + " on " + experiment.device.str() + " (" + std::to_string(at::get_num_threads()) +
           " threads), run directory " + experiment.run_dir());
  train::check_data_parallel(experiment, launch.world_size);
  const std::unique_ptr<distributed::ProcessGroup> group = join_launched_group(launch, experiment);
  train::Trainer trainer(experiment, group.get());
  trainer.run(args.resume, launch.restart_count > 0);
  log_info("done: " + experiment.run_dir());
  return 0;
}

}  // namespace flowlab::cli
