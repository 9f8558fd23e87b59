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
#include <torch/types.h>

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
  torch::Tensor apply(const std::string& optimizer, const torch::Tensor& loss) override;
  /// Throws when a loss since the last check was not finite (the host reads the device's record).
  void check_losses_finite();
  [[noreturn]] void stop_on_loss(const std::string& what, int64_t step, const std::string& optimizer);
  void save(int64_t step);
  void choose_threads();
  CheckpointParts parts();
  void log_metrics_line(const std::string& json);
  Experiment& exp_;
  Task& task_;
  std::vector<TrainedModule> modules_;
  std::vector<TrainedOptimizer> optimizers_;
  std::vector<double> base_lr_;      // each optimizer's configured learning rate, scaled by its schedule
  std::map<std::string, torch::Tensor> grad_norms_;  // of the current step, by optimizer
  // On CUDA the losses are checked on the device: the first step with a non-finite loss (-1:
  // none), read on the steps that log, evaluate or checkpoint. On the CPU each loss is read as
  // it comes, before its update.
  bool defer_loss_checks_ = false;
  torch::Tensor first_bad_step_;
  at::Generator generator_;          // draws data, source, times and latents
  int64_t step_ = 0;                 // the step being taken (0-based)
  int64_t last_saved_ = -1;
};

/// Installs SIGINT/SIGTERM handlers that ask the trainer to stop (a second signal kills).
void install_stop_handlers();
/// True once a stop was requested.
bool stop_requested();

}  // namespace flowlab::train
