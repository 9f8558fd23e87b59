#pragma once
// Everything a run is made of, built from one config tree. `flowlab train`,
// `sample` and `eval` all start here, so they agree on what the config means.
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/precision.h"
#include "flowlab/data/batch_shard.h"
#include "flowlab/data/dataset.h"
#include "flowlab/nn/classifier.h"
#include "flowlab/nn/model.h"
#include "flowlab/objectives/coupling.h"
#include "flowlab/objectives/objective.h"
#include "flowlab/paths/path.h"
#include "flowlab/ot/metric.h"
#include "flowlab/solvers/eps_schedule.h"
#include "flowlab/solvers/likelihood.h"
#include "flowlab/solvers/sde.h"
#include "flowlab/solvers/solver.h"
#include "flowlab/train/optimizer.h"
#include "flowlab/train/task.h"

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

/// Data-parallel training (the `train.data_parallel` section), used when a launcher starts
/// several processes (distributed/launch.h).
struct DataParallelOptions {
  double bucket_mb = 25;       ///< gradient bucket size (PyTorch DDP's bucket_cap_mb)
  double first_bucket_mb = 1;  ///< the first bucket, the last layers' gradients
  bool overlap = true;         ///< reduce buckets while backward runs
  double timeout_s = 600;      ///< a missing process or a collective that does not finish fails after this
  static DataParallelOptions read(config::Node& node);
};

struct TrainOptions {
  int64_t steps = 20000;
  int64_t batch_size = 256;
  double grad_clip = 1.0;  ///< max global gradient norm; 0 disables clipping
  /// fp32, tf32 (TF32 matrix products on CUDA) or bf16 (autocast for the forward pass and loss;
  /// weights, gradients, optimizer and EMA state stay float32).
  Precision precision = Precision::fp32;
  /// When the host reads the losses to stop on a non-finite one: "step" (each loss before its
  /// update), "log" (a device-side record, read on logging, evaluation and checkpoint steps: no
  /// per-step host sync), "auto" (step on the CPU, log on CUDA).
  std::string loss_check = "auto";
  EmaOptions ema;
  int64_t log_every = 100;
  int64_t eval_every = 2000;        ///< 0 disables evaluation during training
  int64_t checkpoint_every = 2000;  ///< 0: only at the end
  int64_t keep_last = 3;            ///< checkpoints kept; 0 keeps all
  DataParallelOptions data_parallel;
  /// The `train:` keys every task shares (optimizer and schedule are read by the task).
  static TrainOptions read(config::Node& node);
};

/// SDE sampling, dX = (b + eps(t) s) dt + sqrt(2 eps(t)) dW (the `sample.sde` section).
struct SdeSampleOptions {
  bool enabled = false;                       ///< sample with the SDE instead of the ODE
  std::string solver = "euler_maruyama";      ///< see `flowlab list sde_solvers`
  solvers::SdeSolverOptions solver_options;   ///< steps, final_step
  solvers::EpsScheduleOptions eps;            ///< eps_schedule, eps
  /// The SDE runs on [0, t_end]; for t_end < 1 a final denoising step goes to t = 1: the data
  /// estimate E[x1 | x] on Gaussian-source paths, one Euler step of b otherwise.
  double t_end = 1.0;
  static SdeSampleOptions read(config::Node& node);
};

struct SampleOptions {
  std::string solver = "heun";
  solvers::SolverOptions solver_options;
  int64_t n = 10000;
  int64_t batch_size = 10000;  ///< samples integrated at once
  bool use_ema = true;
  /// Class-conditional models: the classes drawn (equal shares), or by class_mode.
  std::vector<int64_t> classes;
  std::string class_mode = "auto";  ///< auto | all | none
  double guidance = 1.0;            ///< classifier-free guidance weight w
  /// The network's evaluations (fp32, tf32 or bf16 autocast); the solver state stays float32.
  Precision precision = Precision::fp32;
  /// Fixed-step ODE sampling on CUDA captured as a CUDA graph per batch shape and replayed
  /// (solvers/graphed_solve.h); no effect on the CPU.
  bool cuda_graph = false;
  SdeSampleOptions sde;
  static SampleOptions read(config::Node& node);
};

struct EvalOptions {
  /// Sample metrics (see `flowlab list metrics`), "nll" (the negative log-likelihood of data),
  /// "kinetic_energy" (the model's velocity energy over the path, Monte Carlo) and
  /// "class_accuracy" (the eval.features classifier's top-1 agreement with the classes that
  /// class-conditional samples were drawn for).
  std::vector<std::string> metrics{"energy_distance", "sliced_w2", "mmd"};
  int64_t n = 5000;
  solvers::LikelihoodOptions likelihood;  ///< how nll is computed (the `eval.likelihood` section)
  /// Quantised data (8-bit images): nll of x + u * step, u ~ U[0, 1)^d, and bpd of the discrete
  /// data, nll / (d ln 2) + log2(1 / step) (a bound, as the papers report it).
  bool dequantize = true;
  static EvalOptions read(config::Node& node);
  bool wants_nll() const;
  bool wants_kinetic_energy() const;
  bool wants_class_accuracy() const;
  /// Whether `name` is one of the evaluations above that is not a registered sample metric.
  static bool is_model_score(const std::string& name);
};

class Experiment {
 public:
  /// Reads run, task and train options and builds the task, which builds what it trains;
  /// every key of `config` must be read (else ConfigError).
  explicit Experiment(config::Node config);
  ~Experiment();
  Experiment(const Experiment&) = delete;
  Experiment& operator=(const Experiment&) = delete;

  config::Node config;
  RunOptions run;
  TrainOptions train;
  SampleOptions sample;
  EvalOptions eval;
  torch::Device device{torch::kCPU};
  std::unique_ptr<data::Dataset> data;
  std::unique_ptr<data::Dataset> source;
  std::unique_ptr<paths::Path> path;
  std::shared_ptr<nn::Model> model;
  std::shared_ptr<nn::Model> ema_model;
  std::unique_ptr<objectives::Objective> objective;
  std::unique_ptr<objectives::Coupling> coupling;
  std::string task_name = "flow_matching";  ///< the top-level `task:` (see `flowlab list tasks`)
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<LrSchedule> schedule;
  std::vector<std::unique_ptr<ot::Metric>> metrics;  ///< the sample metrics of eval.metrics, in order
  std::vector<std::string> metric_names;
  /// What samples are compared with and nll is measured on: eval.data, else the data's own test
  /// split (data::test_split_config); null: fresh draws of `data`.
  std::unique_ptr<data::Dataset> held_out;
  /// eval.features: {run: DIR}: a classifier run whose penultimate layer (nn::Classifier::features)
  /// is the space the sample metrics compare in (an image metric without Inception weights);
  /// null: the samples' own coordinates.
  std::shared_ptr<nn::Classifier> feature_network;
  /// What the run trains, built last from the components above.
  std::unique_ptr<Task> task;
  /// The rows of each training batch this process computes (data-parallel training; the
  /// Trainer sets it): tasks draw whole batches and keep these rows.
  data::BatchShard shard;

  /// The components of a flow task (data, source, path, model and its EMA, coupling, objective,
  /// optimizer, schedule, sample and eval options, metrics), from their config sections; the
  /// flow tasks call it first. Null for other tasks. The objective (the path regression loss)
  /// comes from the section `objective_section`.
  void build_flow_components(const std::string& objective_section = "objective");
  /// Whether the run is a flow task's (it has a model on a path to sample).
  bool has_flow() const { return path != nullptr; }

  /// <run.dir>/<run.name>
  std::string run_dir() const;
  std::string checkpoint_dir() const { return run_dir() + "/checkpoints"; }

 private:
  /// Config error unless the path has targets for the model's fields and they determine a velocity.
  void check_fields(config::Node& model_node) const;
  /// Config error when SDE sampling lacks a score or nll lacks a source density.
  void check_sampling(config::Node& sample_node, config::Node& eval_node) const;
};

/// The device `run.device` names ("auto" picks CUDA when LibTorch has it). "auto" and "cuda" on a
/// machine with several GPUs pick GPU `local_rank` modulo their number (one per process of a
/// data-parallel run, as torchrun's LOCAL_RANK says).
torch::Device resolve_device(const std::string& name, int64_t local_rank = 0);

}  // namespace flowlab::train
