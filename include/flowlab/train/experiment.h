#pragma once
// Everything a run is made of, built from one config tree. `flowlab train`,
// `sample` and `eval` all start here, so they agree on what the config means.
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"
#include "flowlab/nn/network.h"
#include "flowlab/objectives/objective.h"
#include "flowlab/paths/path.h"
#include "flowlab/ot/metric.h"
#include "flowlab/solvers/solver.h"
#include "flowlab/train/optimizer.h"

namespace flowlab::train {

struct RunOptions {
  std::string name = "run";
  std::string dir = "runs";
  int64_t seed = 0;
  std::string device = "auto";  ///< auto | cpu | cuda | cuda:N
  int64_t threads = 0;          ///< 0: every core this process may use
  static RunOptions read(config::Node& node);
};

struct EmaOptions {
  double decay = 0.999;
  static EmaOptions read(config::Node& node);
};

struct TrainOptions {
  int64_t steps = 20000;
  int64_t batch_size = 256;
  double grad_clip = 1.0;  ///< max global gradient norm; 0 disables clipping
  EmaOptions ema;
  int64_t log_every = 100;
  int64_t eval_every = 2000;        ///< 0 disables evaluation during training
  int64_t checkpoint_every = 2000;  ///< 0: only at the end
  int64_t keep_last = 3;            ///< checkpoints kept; 0 keeps all
};

struct SampleOptions {
  std::string solver = "heun";
  solvers::SolverOptions solver_options;
  int64_t n = 10000;
  int64_t batch_size = 10000;  ///< samples integrated at once
  bool use_ema = true;
  static SampleOptions read(config::Node& node);
};

struct EvalOptions {
  std::vector<std::string> metrics{"energy_distance", "sliced_w2", "mmd"};
  int64_t n = 5000;
  static EvalOptions read(config::Node& node);
};

class Experiment {
 public:
  /// Builds every component; every key of `config` must be read (else ConfigError).
  explicit Experiment(config::Node config);

  config::Node config;
  RunOptions run;
  TrainOptions train;
  SampleOptions sample;
  EvalOptions eval;
  torch::Device device{torch::kCPU};
  std::unique_ptr<data::Dataset> data;
  std::unique_ptr<data::Dataset> source;
  std::unique_ptr<paths::Path> path;
  std::shared_ptr<nn::Network> network;
  std::shared_ptr<nn::Network> ema_network;
  std::unique_ptr<objectives::Objective> objective;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<LrSchedule> schedule;
  std::vector<std::unique_ptr<ot::Metric>> metrics;

  /// <run.dir>/<run.name>
  std::string run_dir() const;
  std::string checkpoint_dir() const { return run_dir() + "/checkpoints"; }
};

/// The device `run.device` names ("auto" picks CUDA when LibTorch has it).
torch::Device resolve_device(const std::string& name);
/// Cores this process may run on.
int64_t available_cores();

}  // namespace flowlab::train
