#pragma once
// The training loop every task shares: the task's steps, learning-rate schedules, gradient
// clipping, EMA of the modules the task marks, periodic evaluation, atomic checkpoints of every
// named part, exact resume, metrics.jsonl, Ctrl-C (checkpoint, then Interrupted) and NaN stops.
// Every loss becomes an update in one place (GradientStep::apply), where the gradients of a
// data-parallel run are averaged over its processes (distributed/gradient_reducer.h).
//
// Data-parallel: every process draws each whole batch and computes its share (data/batch_shard.h),
// so a run trains the same model with any number of processes. Rank 0 alone writes metrics,
// checkpoints and evaluations; every rank reads the checkpoint on resume. The logged losses are
// means over the processes; a stop (Ctrl-C, SIGTERM) is agreed through the gradient reduction.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "flowlab/train/checkpoint.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/task.h"

namespace flowlab::distributed {
class GradientReducer;
class ProcessGroup;
}  // namespace flowlab::distributed

namespace flowlab::train {

class Trainer : private GradientStep {
 public:
  /// With a `group` of several processes, trains data-parallel (train.batch_size is the global
  /// batch; each process computes batch_size / size of it).
  explicit Trainer(Experiment& experiment, distributed::ProcessGroup* group = nullptr);
  ~Trainer();
  /// Trains to train.steps. With `resume`, continues from the newest checkpoint
  /// exactly; without it, a run directory that already holds checkpoints is an error.
  /// `restarted` (a launcher restarting a failed run): resume when a checkpoint exists, else start.
  /// Throws Interrupted after saving a checkpoint when SIGINT/SIGTERM arrives.
  void run(bool resume, bool restarted = false);

 private:
  torch::Tensor apply(const std::string& optimizer, const torch::Tensor& loss) override;
  /// Throws when a loss since the last check was not finite (the host reads the device's record).
  void check_losses_finite();
  [[noreturn]] void stop_on_loss(const std::string& what, int64_t step, const std::string& optimizer);
  void save(int64_t step);
  void choose_threads();
  CheckpointParts parts();
  void log_metrics_line(const std::string& json);
  bool data_parallel() const { return group_ != nullptr; }
  /// Whether this process writes the run's files (rank 0, or the only process).
  bool writes() const;
  /// The mean over the processes of each of `values` (0-dim tensors), in place.
  void mean_over_processes(std::vector<torch::Tensor*> values);
  /// Whether a stop was asked for: of this process, or (data-parallel) agreed by all.
  bool stop_now(bool logged_last_step);
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
  distributed::ProcessGroup* group_ = nullptr;
  std::map<std::string, std::unique_ptr<distributed::GradientReducer>> reducers_;  // by optimizer
  torch::Tensor stop_votes_;         // processes that asked to stop, summed in the last reduction
  int64_t step_ = 0;                 // the step being taken (0-based)
  int64_t last_saved_ = -1;
};

/// Config errors of a run about to train in `processes` processes: a task that cannot, a global
/// batch that does not split into equal shares. (Checked before the processes meet.)
void check_data_parallel(Experiment& experiment, int64_t processes);

/// Installs SIGINT/SIGTERM handlers that ask the trainer to stop (a second signal kills).
void install_stop_handlers();
/// True once a stop was requested.
bool stop_requested();

}  // namespace flowlab::train
