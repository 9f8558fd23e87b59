#pragma once
// A task is what a run trains: it names the modules and optimizers it owns, draws its
// batches, computes each step's losses and hands them to the trainer's one gradient step,
// evaluates, and names the state its checkpoints hold beyond the modules. The Trainer
// (train/trainer.h) keeps only what every task shares: the step loop, learning-rate
// schedules, clipping, EMA, NaN stop, Ctrl-C, logging, evaluation cadence, checkpoints and
// exact resume. `flowlab list tasks` shows the registered tasks; `task:` chooses one.
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "flowlab/core/registry.h"
#include "flowlab/train/optimizer.h"

namespace flowlab::train {

class Experiment;

/// A module the trainer updates and checkpoints under `name`, with an EMA copy when `ema` is set
/// (train.ema.decay).
struct TrainedModule {
  std::string name;
  std::shared_ptr<torch::nn::Module> module;
  std::shared_ptr<torch::nn::Module> ema;  ///< null: no moving average
};

/// An optimizer the trainer steps and checkpoints under `name`: its learning rate is the one it
/// was built with times `schedule`, and gradients of `parameters` are clipped together.
struct TrainedOptimizer {
  std::string name;
  torch::optim::Optimizer* optimizer = nullptr;
  std::vector<torch::Tensor> parameters;
  const LrSchedule* schedule = nullptr;  ///< null: constant
};

/// Named tensors beyond the modules that define a trained task (a path fitted to data).
using TaskState = std::vector<std::pair<std::string, torch::Tensor>>;

/// The one place where a loss becomes an update: zero the optimizer's gradients, backpropagate,
/// stop on a non-finite loss, clip, (later: all-reduce across processes, loss scaling), step.
class GradientStep {
 public:
  virtual ~GradientStep() = default;
  /// Updates the parameters of the optimizer named `optimizer` from `loss`; returns the loss,
  /// detached, where it was computed (on CUDA nothing is read back to the host per step).
  virtual torch::Tensor apply(const std::string& optimizer, const torch::Tensor& loss) = 0;
};

/// What a step reports: the loss that the log line and metrics.jsonl show, and more numbers
/// (each logged under its name, e.g. a second loss of a two-optimizer task), as 0-dim tensors on
/// the run's device: the trainer reads them only on the steps it logs.
struct StepReport {
  torch::Tensor loss;
  std::map<std::string, torch::Tensor> values;
};

class Task {
 public:
  virtual ~Task() = default;
  /// The modules trained, with their EMA copies; the first is the one `flowlab sample` uses.
  virtual std::vector<TrainedModule> modules() = 0;
  /// The optimizers, in the order a step updates them.
  virtual std::vector<TrainedOptimizer> optimizers() = 0;
  /// Before the first step of a fresh run (not on resume), e.g. fitting a schedule to data.
  virtual void prepare(uint64_t /*seed*/) {}
  /// One training step (0-based `step`): draws from `gen`, updates through `update` (any number
  /// of times, in any pattern over the optimizers).
  virtual StepReport step(int64_t step, at::Generator& gen, GradientStep& update) = 0;
  /// Evaluation metrics with generators seeded from `seed` (training and `flowlab eval` share it).
  virtual std::map<std::string, double> evaluate(uint64_t seed) = 0;
  /// The losses (by name) that compare the samples of a batch with each other: in data-parallel
  /// training each process computes them on its share, so they depend on the number of processes.
  virtual std::vector<std::string> batch_coupled_losses() const { return {}; }
  /// Why the task cannot train data-parallel (empty: it can).
  virtual std::string data_parallel_limitation() const { return {}; }
  /// State saved in checkpoints beside the modules.
  virtual TaskState state() const { return {}; }
  virtual void load_state(const TaskState& /*state*/) {}
};

/// The "tasks" family: flow_matching, monge_map. A task is built for an experiment whose
/// components (run, train, data, model...) it uses, from the experiment's `task:` name.
Registry<Task, Experiment&>& task_registry();
/// Whether the task trains a model on a path that `flowlab sample` and `diagnose` can use.
bool is_flow_task(const std::string& name);
void register_builtin_tasks();

}  // namespace flowlab::train
