#include <spdlog/spdlog.h>

#include "commands.h"
#include "flowlab/train/trainer.h"

namespace flowlab::cli {

int train_command(const TrainArgs& args) {
  config::Node config = config::Node::load_file(args.config);
  for (const auto& o : args.overrides) config.apply_override(o);
  train::Experiment experiment(config);
  spdlog::info("training {} on {} ({} threads), run directory {}", args.config, experiment.device.str(),
               at::get_num_threads(), experiment.run_dir());
  train::Trainer trainer(experiment);
  trainer.run(args.resume);
  spdlog::info("done: {}", experiment.run_dir());
  return 0;
}

}  // namespace flowlab::cli
