
#include <ATen/Parallel.h>

#include "commands.h"
#include "flowlab/core/log.h"
#include "flowlab/train/trainer.h"

namespace flowlab::cli {

int train_command(const TrainArgs& args) {
  config::Node config = config::Node::load_file(args.config);
  for (const auto& o : args.overrides) config.apply_override(o);
  train::Experiment experiment(config);
  log_info("training " + args.config + " on " + experiment.device.str() + " (" + std::to_string(at::get_num_threads()) +
           " threads), run directory " + experiment.run_dir());
  train::Trainer trainer(experiment);
  trainer.run(args.resume);
  log_info("done: " + experiment.run_dir());
  return 0;
}

}  // namespace flowlab::cli
