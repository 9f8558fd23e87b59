#pragma once
// The training loop every task shares: the task's steps, learning-rate schedules, gradient
// clipping, EMA of the modules the task marks, periodic evaluation, atomic checkpoints of every
// named part, exact resume, metrics.jsonl, Ctrl-C (checkpoint, then Interrupted) and NaN stops.
// Every loss becomes an update in one place (GradientStep::apply), where an all-reduce across
// processes and mixed precision will hook in.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>

#include "flowlab/train/checkpoint.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/task.h"

namespace flowlab::train {

class Trainer : private GradientStep {
 public:
  explicit Trainer(Experiment& experiment);
  /// Trains to train.steps. With `resume`, continues from the newest checkpoint
  /// exactly; without it, a run directory that already holds checkpoints is an error.
  /// Throws Interrupted after saving a checkpoint when SIGINT/SIGTERM arrives.
  void run(bool resume);

 private:
  double apply(const std::string& optimizer, const torch::Tensor& loss) override;
  void save(int64_t step);
  void choose_threads();
  CheckpointParts parts();
  void log_metrics_line(const std::string& json);
  Experiment& exp_;
  Task& task_;
  std::vector<TrainedModule> modules_;
  std::vector<TrainedOptimizer> optimizers_;
  std::vector<double> base_lr_;      // each optimizer's configured learning rate, scaled by its schedule
  std::map<std::string, double> grad_norms_;  // of the current step, by optimizer
  at::Generator generator_;          // draws data, source, times and latents
  int64_t step_ = 0;                 // the step being taken (0-based)
  int64_t last_saved_ = -1;
};

/// Installs SIGINT/SIGTERM handlers that ask the trainer to stop (a second signal kills).
void install_stop_handlers();
/// True once a stop was requested.
bool stop_requested();

}  // namespace flowlab::train
