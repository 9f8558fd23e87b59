#include "flowlab/distributed/launch.h"
#include "flowlab/train/experiment.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "flowlab/builtins.h"
#include "flowlab/core/threads.h"
#include "flowlab/data/source.h"
#include "flowlab/train/classifier_task.h"
#include "flowlab/train/ema.h"

namespace flowlab::train {

RunOptions RunOptions::read(config::Node& node) {
  RunOptions o;
  o.name = node.get<std::string>("name", o.name, "run name: the run directory is <dir>/<name>");
  node.expect(!o.name.empty() && o.name.find('/') == std::string::npos, "name", "a non-empty name without '/'");
  o.dir = node.get<std::string>("dir", o.dir, "directory holding runs");
  o.seed = node.get<int64_t>("seed", o.seed, "seed of initialisation and of the data stream");
  node.expect(o.seed >= 0, "seed", "an integer >= 0");
  o.device = node.get<std::string>("device", o.device, "auto | cpu | cuda | cuda:N");
  o.threads = node.get<int64_t>("threads", o.threads, "CPU threads; 0 uses every available core");
  node.expect(o.threads >= 0, "threads", "an integer >= 0");
  return o;
}

EmaOptions EmaOptions::read(config::Node& node) {
  EmaOptions o;
  o.decay = node.get<double>("decay", o.decay, "EMA decay per step");
  node.expect(o.decay >= 0 && o.decay < 1, "decay", "a number in [0, 1)");
  return o;
}

SampleOptions SampleOptions::read(config::Node& node) {
  SampleOptions o;
  o.solver = node.get<std::string>("solver", o.solver, "ODE solver (see `flowlab list solvers`)");
  o.solver_options = solvers::SolverOptions::read(node);
  o.n = node.get<int64_t>("n", o.n, "samples drawn by `flowlab sample`");
  node.expect(o.n >= 1, "n", "an integer >= 1");
  o.batch_size = node.get<int64_t>("batch_size", o.batch_size, "samples integrated at once");
  node.expect(o.batch_size >= 1, "batch_size", "an integer >= 1");
  o.use_ema = node.get<bool>("use_ema", o.use_ema, "sample with the EMA weights");
  o.classes = node.get<std::vector<int64_t>>(
      "class", o.classes, "class-conditional models: the classes sampled, in equal shares (sample i gets class[i mod m])");
  for (int64_t k : o.classes) node.expect(k >= 0, "class", "a list of class labels >= 0");
  o.class_mode = node.get_choice(
      "classes", o.class_mode, {"auto", "all", "none"},
      "class-conditional models: auto (the `class` list if given, else all), all (an equal share of every class: "
      "sample i gets class i mod K), none (the unconditional field, the null class)");
  o.guidance = node.get<double>("guidance", o.guidance,
                                "classifier-free guidance weight w: f_uncond + w (f_cond - f_uncond); 1 is the "
                                "conditional model, 0 the unconditional one");
  node.expect(std::isfinite(o.guidance), "guidance", "a finite number");
  o.precision = precision_from_name(node.get_choice(
      "precision", precision_name(o.precision), precision_names(),
      "the network's arithmetic while sampling: fp32, tf32 (TF32 matrix products on CUDA; fp32 on CPU) or bf16 "
      "(autocast); the solver's state stays float32"));
  o.cuda_graph = node.get<bool>("cuda_graph", o.cuda_graph,
                                "on CUDA, capture the fixed-step ODE solve of a batch as a CUDA graph and replay it "
                                "(unconditional models; no effect on the CPU)");
  config::Node sde = node.section("sde", "SDE sampling: dX = (b + eps s) dt + sqrt(2 eps) dW");
  o.sde = SdeSampleOptions::read(sde);
  return o;
}

SdeSampleOptions SdeSampleOptions::read(config::Node& node) {
  SdeSampleOptions o;
  o.enabled = node.get<bool>("enabled", o.enabled, "sample with the SDE (flowlab sample --sde)");
  o.solver = node.get<std::string>("solver", o.solver, "SDE solver (see `flowlab list sde_solvers`)");
  solvers::sde_solver_registry().check_known(node, "solver", o.solver);
  o.solver_options = solvers::SdeSolverOptions::read(node);
  o.eps = solvers::EpsScheduleOptions::read(node);
  o.t_end = node.get<double>("t_end", o.t_end, "the SDE stops here; below 1 a final denoising step follows");
  node.expect(o.t_end > 0.0 && o.t_end <= 1.0, "t_end", "a number in (0, 1]");
  return o;
}

EvalOptions EvalOptions::read(config::Node& node) {
  EvalOptions o;
  o.metrics = node.get<std::vector<std::string>>(
      "metrics", o.metrics,
      "sample metrics (see `flowlab list metrics`), nll (the data's negative log-likelihood) and kinetic_energy (the "
      "model's (1/d) int E|u_t|^2 dt over x_t ~ p_t, Monte Carlo)");
  for (const auto& m : o.metrics) {
    if (!is_model_score(m)) ot::metric_registry().check_known(node, "metrics", m);
  }
  o.n = node.get<int64_t>("n", o.n, "samples (and data points) per evaluation");
  node.expect(o.n >= 2, "n", "an integer >= 2");
  config::Node likelihood = node.section("likelihood", "how nll is computed: the backward ODE");
  o.likelihood = solvers::LikelihoodOptions::read(likelihood);
  o.dequantize = node.get_choice("dequantize", "uniform", {"uniform", "none"},
                                 "quantised data (8-bit images): nll of x + U[0, step)^d and bpd of the discrete "
                                 "data (uniform), or of the pixels as given (none)") == "uniform";
  return o;
}

bool EvalOptions::is_model_score(const std::string& name) {
  return name == "nll" || name == "kinetic_energy" || name == "class_accuracy";
}

bool EvalOptions::wants_class_accuracy() const {
  return std::find(metrics.begin(), metrics.end(), "class_accuracy") != metrics.end();
}

bool EvalOptions::wants_nll() const { return std::find(metrics.begin(), metrics.end(), "nll") != metrics.end(); }

bool EvalOptions::wants_kinetic_energy() const {
  return std::find(metrics.begin(), metrics.end(), "kinetic_energy") != metrics.end();
}

TrainOptions TrainOptions::read(config::Node& node) {
  TrainOptions o;
  o.steps = node.get<int64_t>("steps", o.steps, "optimizer steps");
  node.expect(o.steps >= 1, "steps", "an integer >= 1");
  o.batch_size = node.get<int64_t>("batch_size", o.batch_size, "examples per step (pairs (x0, x1) for flow tasks)");
  node.expect(o.batch_size >= 1, "batch_size", "an integer >= 1");
  o.grad_clip = node.get<double>("grad_clip", o.grad_clip, "max gradient norm; 0 disables");
  node.expect(o.grad_clip >= 0, "grad_clip", "a number >= 0");
  o.precision = precision_from_name(node.get_choice(
      "precision", precision_name(o.precision), precision_names(),
      "the arithmetic of forward passes and losses: fp32, tf32 (TF32 matrix products on CUDA; fp32 on CPU) or bf16 "
      "(autocast; weights, gradients, optimizer and EMA state stay float32)"));
  o.loss_check = node.get_choice(
      "loss_check", o.loss_check, {"auto", "step", "log"},
      "when losses are read to stop on a non-finite one: step (each, before its update), log (recorded on the "
      "device, read every log_every steps and before checkpoints: no host sync per step), auto (step on the CPU, "
      "log on CUDA)");
  config::Node ema_node = node.section("ema");
  o.ema = EmaOptions::read(ema_node);
  o.log_every = node.get<int64_t>("log_every", o.log_every, "steps between log lines");
  node.expect(o.log_every >= 1, "log_every", "an integer >= 1");
  o.eval_every = node.get<int64_t>("eval_every", o.eval_every, "steps between evaluations; 0 never");
  node.expect(o.eval_every >= 0, "eval_every", "an integer >= 0");
  o.checkpoint_every =
      node.get<int64_t>("checkpoint_every", o.checkpoint_every, "steps between checkpoints; 0 only at the end");
  node.expect(o.checkpoint_every >= 0, "checkpoint_every", "an integer >= 0");
  o.keep_last = node.get<int64_t>("keep_last", o.keep_last, "checkpoints kept; 0 keeps all");
  node.expect(o.keep_last >= 0, "keep_last", "an integer >= 0");
  config::Node data_parallel = node.section("data_parallel", "several processes (torchrun, or RANK/WORLD_SIZE...)");
  o.data_parallel = DataParallelOptions::read(data_parallel);
  return o;
}

DataParallelOptions DataParallelOptions::read(config::Node& node) {
  DataParallelOptions o;
  o.bucket_mb = node.get<double>("bucket_mb", o.bucket_mb, "MB of gradients summed over the processes at once");
  node.expect(std::isfinite(o.bucket_mb) && o.bucket_mb > 0, "bucket_mb", "a number > 0");
  o.first_bucket_mb = node.get<double>("first_bucket_mb", o.first_bucket_mb,
                                       "MB of the first bucket (the last layers), so communication starts early");
  node.expect(std::isfinite(o.first_bucket_mb) && o.first_bucket_mb > 0, "first_bucket_mb", "a number > 0");
  o.overlap = node.get<bool>("overlap", o.overlap, "sum buckets while backward runs (false: after it)");
  o.timeout_s = node.get<double>("timeout_s", o.timeout_s,
                                 "seconds after which a missing process or an unfinished collective fails the run");
  node.expect(std::isfinite(o.timeout_s) && o.timeout_s > 0, "timeout_s", "a number > 0");
  return o;
}

torch::Device resolve_device(const std::string& name, int64_t local_rank) {
  if ((name == "auto" || name == "cuda") && torch::cuda::is_available()) {
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count()));
  }
  if (name == "auto") return torch::Device(torch::kCPU);
  try {
    torch::Device device(name);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      throw ConfigError("run.device: '" + name + "' requested but this LibTorch has no usable CUDA device");
    }
    return device;
  } catch (const c10::Error&) {
    throw ConfigError("run.device: expected auto, cpu, cuda or cuda:N, got '" + name + "'");
  }
}

Experiment::Experiment(config::Node root) : config(std::move(root)) {
  register_builtins();
  config::Node run_node = config.section("run");
  run = RunOptions::read(run_node);
  device = resolve_device(run.device, distributed::read_launch_environment().local_rank);
  use_threads(run.threads);

  task_name = config.get<std::string>("task", task_name, "what the run trains (see `flowlab list tasks`)");
  task_registry().check_known(config, "task", task_name);
  config::Node train_node = config.section("train", "the training loop");
  train = TrainOptions::read(train_node);
  // The task builds what it trains (flow tasks: build_flow_components), then checks it.
  config::Node no_options = config::Node::parse("{}", "task");
  task = task_registry().create(task_name, no_options, *this);
  config.check_all_used();
}

void Experiment::build_flow_components(const std::string& objective_section) {
  config::Node data_node = config.section("data", "the data x1");
  data = data::dataset_registry().create(data_node);
  const auto shape = data->sample_shape();
  config::Node source_node = config.section("source", "the source x0");
  if (!source_node.has("type")) source_node.apply_override("type=gaussian");
  source = data::source_registry().create(source_node, shape);
  config::Node path_node = config.section("path", "the probability path");
  path = paths::path_registry().create(path_node);
  if (path->gaussian_source() && !dynamic_cast<const data::GaussianSource*>(source.get())) {
    source_node.fail("type", "path '" + path_node.require<std::string>("type") +
                                 "' assumes a standard Gaussian source; use source.type: gaussian");
  }

  // Initialisation is seeded so that a run is reproducible from its config alone.
  torch::manual_seed(static_cast<uint64_t>(run.seed));
  config::Node model_node = config.section("model", "the network");
  nn::resolve_num_classes(model_node, data->num_classes());
  config::Node ema_model_node = model_node.clone();
  model = std::make_shared<nn::Model>(model_node, shape);
  ema_model = std::make_shared<nn::Model>(ema_model_node, shape);
  copy_weights(*ema_model, *model);
  model->to(device);
  ema_model->to(device);
  check_fields(model_node);

  config::Node coupling_node = config.section("coupling", "how x0 is paired with x1 in a batch");
  if (!coupling_node.has("type")) coupling_node.apply_override("type=independent");
  coupling = objectives::coupling_registry().create(coupling_node);
  if (coupling->active() && path->mirror()) {
    coupling_node.fail("type", "the mirror path pairs each data point with itself; use coupling.type: independent");
  }
  if (coupling->needs_labels() && (data->num_classes() == 0 || source->num_classes() == 0)) {
    coupling_node.fail("class_aware", "needs labelled data and a labelled source (source.type: dataset)");
  }
  if (coupling->needs_labels() && data->num_classes() != source->num_classes()) {
    coupling_node.fail("class_aware", "pairs points of the same label, and the source has " +
                                          std::to_string(source->num_classes()) + " classes, the data " +
                                          std::to_string(data->num_classes()));
  }

  config::Node objective_node = config.section(objective_section, "the training loss");
  objective = objectives::objective_registry().create(objective_node);
  try {
    objective->check_path(*path);
  } catch (const Error& e) {
    objective_node.fail("type", e.what());
  }

  config::Node train_node = config.section("train");
  OptimizerWithSchedule built = build_optimizer(train_node, model->parameters());
  optimizer = std::move(built.optimizer);
  schedule = std::move(built.schedule);

  config::Node sample_node = config.section("sample", "sampling");
  sample = SampleOptions::read(sample_node);
  solvers::solver_registry().check_known(sample_node, "solver", sample.solver);
  if (sample.cuda_graph) {
    if (sample.solver == "dopri5") {
      sample_node.fail("cuda_graph", "needs a fixed-step solver (euler, midpoint, heun, rk4), not dopri5, which "
                                     "chooses its steps on the host");
    }
    if (sample.sde.enabled) sample_node.fail("cuda_graph", "needs the ODE sampler (sample.sde.enabled: false)");
    if (model->num_classes() > 0) {
      sample_node.fail("cuda_graph", "needs an unconditional model (this one is class-conditional)");
    }
  }
  config::Node eval_node = config.section("eval", "evaluation metrics");
  eval = EvalOptions::read(eval_node);
  for (const auto& name : eval.metrics) {
    if (EvalOptions::is_model_score(name)) continue;
    // Options of a metric sit in eval.<name>, e.g. eval.sinkhorn.eps.
    config::Node metric_node =
        eval_node.has(name) ? eval_node.section(name, "options of the metric") : config::Node::parse("{}", "eval.metrics");
    metrics.push_back(ot::metric_registry().create(name, metric_node));
    metric_names.push_back(name);
  }
  if (eval_node.has("data")) {
    config::Node held_out_node = eval_node.section("data", "the held-out data samples are compared with");
    held_out = data::dataset_registry().create(held_out_node);
    if (held_out->sample_shape() != shape || held_out->num_classes() != data->num_classes()) {
      held_out_node.fail("type", "the held-out data must have the training data's shape and classes");
    }
  } else if (std::optional<config::Node> test = data::test_split_config(data_node)) {
    held_out = data::dataset_registry().create(*test);
  }
  if (eval_node.has("features")) {
    config::Node features_node = eval_node.section(
        "features", "a classifier run ({run: DIR, checkpoint: FILE}) whose penultimate layer is the space the sample "
                    "metrics compare in");
    LoadedClassifier features = load_classifier(TeacherOptions::read(features_node));
    feature_network = features.network;
    feature_network->to(device);
    for (auto& p : feature_network->parameters()) p.set_requires_grad(false);
    check_classifier_input(*feature_network, *data, data_node, &features.data, features_node, "run", device);
  }
  if (eval.wants_class_accuracy()) {
    if (!feature_network) eval_node.fail("metrics", "class_accuracy needs eval.features: {run: CLASSIFIER_RUN}");
    if (model->num_classes() == 0) eval_node.fail("metrics", "class_accuracy needs a class-conditional model");
    if (feature_network->num_classes() != model->num_classes()) {
      eval_node.fail("features", "the feature classifier predicts " + std::to_string(feature_network->num_classes()) +
                                     " classes, the model has " + std::to_string(model->num_classes()));
    }
  }
  check_sampling(sample_node, eval_node);
}

void Experiment::check_sampling(config::Node& sample_node, config::Node& eval_node) const {
  const auto& kinds = model->predictions();
  const int64_t classes = model->num_classes();
  if (classes == 0) {
    if (!sample.classes.empty()) sample_node.fail("class", "the model is unconditional (model.num_classes is 0)");
    if (sample.guidance != 1.0) sample_node.fail("guidance", "guidance needs a class-conditional model");
  } else {
    for (int64_t k : sample.classes) {
      if (k >= classes) sample_node.fail("class", "class " + std::to_string(k) + " is not below model.num_classes " +
                                                      std::to_string(classes));
    }
    if (!sample.classes.empty() && sample.class_mode != "auto") {
      sample_node.fail("classes", "give either the classes to sample (class) or classes: " + sample.class_mode);
    }
    const bool unconditional_needed = sample.guidance != 1.0 || sample.class_mode == "none";
    if (unconditional_needed && !objective->trains_unconditional()) {
      sample_node.fail(sample.guidance != 1.0 ? "guidance" : "classes",
                       "this needs the unconditional field, which is learnt only with objective.label_dropout > 0");
    }
  }
  if (sample.sde.enabled) {
    const std::string why = path->why_no_score(kinds);
    config::Node sde_node = sample_node.section("sde");
    if (!why.empty()) sde_node.fail("enabled", "SDE sampling needs the score: " + why);
  }
  if (eval.wants_nll()) {
    const bool gaussian = dynamic_cast<const data::GaussianSource*>(source.get()) != nullptr;
    if (path->mirror() || (!gaussian && !dynamic_cast<const data::AnalyticDensity*>(source.get()))) {
      eval_node.fail("metrics", "nll needs a source with a known density (gaussian, or a gaussian_mixture dataset)");
    }
  }
  if (eval.wants_kinetic_energy() && (!path->gaussian_source() || path->mirror())) {
    eval_node.fail("metrics", "kinetic_energy draws x_t with x0 ~ N(0, I): it needs a Gaussian-source path");
  }
}

void Experiment::check_fields(config::Node& model_node) const {
  const auto& kinds = model->predictions();
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    try {
      path->check_target(kinds[i]);
    } catch (const Error& e) {
      model_node.fail(i == 0 ? "predicts" : "also_predicts", e.what());
    }
  }
  const std::string why = path->why_no_velocity(kinds);
  if (!why.empty()) model_node.fail("predicts", "these fields do not determine the velocity: " + why);
}

Experiment::~Experiment() = default;

std::string Experiment::run_dir() const { return run.dir + "/" + run.name; }

}  // namespace flowlab::train
