#pragma once
// The training loop: streamed batches, optimizer and LR schedule, gradient
// clipping, EMA, periodic evaluation, atomic checkpoints, exact resume,
// metrics.jsonl, Ctrl-C (checkpoint, then Interrupted) and NaN stops.
#include <cstdint>
#include <string>

#include <ATen/core/Generator.h>

#include "flowlab/train/experiment.h"

namespace flowlab::train {

class Trainer {
 public:
  explicit Trainer(Experiment& experiment);
  /// Trains to train.steps. With `resume`, continues from the newest checkpoint
  /// exactly; without it, a run directory that already holds checkpoints is an error.
  /// Throws Interrupted after saving a checkpoint when SIGINT/SIGTERM arrives.
  void run(bool resume);

 private:
  void save(int64_t step);
  void log_metrics_line(const std::string& json);
  Experiment& exp_;
  at::Generator generator_;   // draws data, source, times and latents
  double learning_rate_base_;  // train.optimizer.lr, scaled by the schedule
};

/// Installs SIGINT/SIGTERM handlers that ask the trainer to stop (a second signal kills).
void install_stop_handlers();
/// True once a stop was requested.
bool stop_requested();

}  // namespace flowlab::train
