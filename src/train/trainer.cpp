#include "flowlab/train/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/precision.h"
#include "flowlab/core/strings.h"
#include "flowlab/core/threads.h"
#include "flowlab/nn/network.h"
#include "flowlab/data/dataset.h"
#include "flowlab/distributed/gradient_reducer.h"
#include "flowlab/distributed/process_group.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/json.h"
#include "flowlab/train/checkpoint.h"
#include "flowlab/train/ema.h"
#include "flowlab/train/evaluation.h"

namespace flowlab::train {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int signal) {
  g_stop.store(true);
  std::signal(signal, SIG_DFL);  // a second Ctrl-C ends the process at once
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  char text[32];
  std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

// Keeps only lines of metrics.jsonl whose step is at most `step`, so a resumed
// run's log reads as if it had never stopped.
void truncate_metrics(const std::string& file, int64_t step) {
  std::ifstream in(file);
  if (!in) return;
  std::string kept, line;
  while (std::getline(in, line)) {
    const auto pos = line.find("\"step\":");
    if (pos == std::string::npos) continue;
    if (std::stoll(line.substr(pos + 7)) <= step) kept += line + "\n";
  }
  io::write_text_atomically(file, kept);
}

}  // namespace

void install_stop_handlers() {
  g_stop.store(false);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() { return g_stop.load(); }

Trainer::Trainer(Experiment& experiment, distributed::ProcessGroup* group)
    : exp_(experiment),
      task_(*experiment.task),
      modules_(task_.modules()),
      optimizers_(task_.optimizers()),
      generator_(data::make_generator(static_cast<uint64_t>(experiment.run.seed))),
      group_(group != nullptr && group->size() > 1 ? group : nullptr) {
  TORCH_CHECK(!modules_.empty() && !optimizers_.empty(), "a task trains at least one module with one optimizer");
  for (const TrainedOptimizer& o : optimizers_) base_lr_.push_back(learning_rate(*o.optimizer));
  if (!group_) return;
  const int64_t size = group_->size();
  check_data_parallel(exp_, size);
  // Statistics of the shares are summed where the group reduces (NCCL: on the GPU).
  exp_.shard = data::BatchShard{group_->rank(), size, [group = group_, device = exp_.device](torch::Tensor& t) {
                                  torch::Tensor on_device = t.to(device);
                                  group->all_reduce(on_device)->wait();
                                  if (!on_device.is_same(t)) t.copy_(on_device);
                                }};
  std::vector<std::string> coupled = task_.batch_coupled_losses();
  for (const TrainedModule& m : modules_) {
    for (const auto& module : m.module->modules()) {
      if (dynamic_cast<torch::nn::BatchNorm1dImpl*>(module.get()) || dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
        coupled.push_back("the batch norm of " + m.name + " (statistics per process)");
        break;
      }
    }
  }
  if (!coupled.empty()) {
    log_warn("data-parallel: " + join(coupled, ", ") + " compare the samples of a batch; each process computes " +
             (coupled.size() == 1 ? "it" : "them") + " on its share of " +
             std::to_string(exp_.train.batch_size / size) + ", so the run depends on the number of processes");
  }
  const DataParallelOptions& o = exp_.train.data_parallel;
  distributed::ReducerOptions reducer;
  reducer.bucket_bytes = std::max<int64_t>(1, static_cast<int64_t>(o.bucket_mb * 1024 * 1024));
  reducer.first_bucket_bytes = std::max<int64_t>(1, static_cast<int64_t>(o.first_bucket_mb * 1024 * 1024));
  reducer.overlap = o.overlap;
  for (const TrainedOptimizer& opt : optimizers_) {
    reducers_[opt.name] = std::make_unique<distributed::GradientReducer>(*group_, opt.parameters, reducer);
  }
}

Trainer::~Trainer() = default;

void check_data_parallel(Experiment& experiment, int64_t processes) {
  if (processes <= 1) return;
  if (const std::string why = experiment.task->data_parallel_limitation(); !why.empty()) throw ConfigError(why);
  if (experiment.train.batch_size % processes != 0) {
    experiment.config.section("train").fail(
        "batch_size", format("the global batch of %lld does not split into %lld equal shares, one per process",
                             static_cast<long long>(experiment.train.batch_size), static_cast<long long>(processes)));
  }
}

bool Trainer::writes() const { return !group_ || group_->rank() == 0; }

void Trainer::mean_over_processes(std::vector<torch::Tensor*> values) {
  std::vector<torch::Tensor> parts;
  for (torch::Tensor* v : values) {
    parts.push_back(v->defined() ? v->detach().to(exp_.device, torch::kFloat).reshape({1})
                                 : torch::zeros({1}, torch::TensorOptions().device(exp_.device)));
  }
  // One reduction for all of them, through the shard's sum (as the tasks' batch statistics).
  const torch::Tensor mean = exp_.shard.sum(torch::cat(parts)) / static_cast<double>(exp_.shard.count);
  for (std::size_t i = 0; i < values.size(); ++i) *values[i] = mean[static_cast<int64_t>(i)];
}

bool Trainer::stop_now(bool logged_last_step) {
  if (!group_) return stop_requested();
  // Agreed by the last gradient reduction, so every process stops at the same step. On CUDA the
  // vote is read where the host reads anyway (after a logged step).
  if (!stop_votes_.defined() || (exp_.device.is_cuda() && !logged_last_step)) return false;
  return stop_votes_.item<double>() > 0.5;
}

void Trainer::log_metrics_line(const std::string& json) {
  const std::string file = exp_.run_dir() + "/metrics.jsonl";
  io::append_checked(file, json + "\n");
}

CheckpointParts Trainer::parts() {
  CheckpointParts parts;
  parts.modules = modules_;
  for (const TrainedOptimizer& o : optimizers_) parts.optimizers.emplace_back(o.name, o.optimizer);
  parts.generators.emplace_back(kTrainingGenerator, &generator_);
  return parts;
}

void Trainer::save(int64_t step) {
  CheckpointMeta meta;
  meta.step = step;
  meta.config_yaml = exp_.config.to_yaml();
  meta.task_state = task_.state();
  save_checkpoint(checkpoint_file(exp_.checkpoint_dir(), step), meta, parts());
  prune_checkpoints(exp_.checkpoint_dir(), exp_.train.keep_last);
}

void Trainer::stop_on_loss(const std::string& what, int64_t step, const std::string& optimizer) {
  const std::string kept = last_saved_ >= 0 ? checkpoint_file(exp_.checkpoint_dir(), last_saved_) : "none";
  throw Error("loss is " + what + " at step " + std::to_string(step) +
              (optimizer.empty() ? std::string() : " (optimizer " + optimizer + ")") +
              "; training stopped. Last good checkpoint: " + kept);
}

void Trainer::check_losses_finite() {
  if (group_) {
    // The earliest bad step of any process, encoded so that it is the largest value.
    const int64_t limit = exp_.train.steps + 2;
    torch::Tensor code = torch::zeros({1}, torch::TensorOptions().device(exp_.device).dtype(torch::kLong));
    if (first_bad_step_.defined()) code = torch::where(first_bad_step_ >= 0, limit - first_bad_step_, code[0]).reshape({1});
    group_->all_reduce(code, distributed::ReduceOp::max)->wait();
    const int64_t value = code.item<int64_t>();
    if (value > 0) {
      stop_on_loss("not finite (in some process; checked every " + std::to_string(exp_.train.log_every) + " steps)",
                   limit - value, "");
    }
    return;
  }
  if (!first_bad_step_.defined()) return;
  const int64_t bad = first_bad_step_.item<int64_t>();
  if (bad >= 0) {
    stop_on_loss(format("not finite (checked on the device, read every %lld steps)",
                        static_cast<long long>(exp_.train.log_every)),
                 bad, "");
  }
}

torch::Tensor Trainer::apply(const std::string& name, const torch::Tensor& loss) {
  auto it = std::find_if(optimizers_.begin(), optimizers_.end(),
                         [&](const TrainedOptimizer& o) { return o.name == name; });
  TORCH_CHECK(it != optimizers_.end(), "the task updates an optimizer it does not name: ", name);
  const torch::Tensor value = loss.detach().to(torch::kFloat);
  if (defer_loss_checks_) {
    if (!first_bad_step_.defined()) first_bad_step_ = torch::full({}, -1, value.options().dtype(torch::kLong));
    first_bad_step_.masked_fill_(value.isfinite().logical_not().logical_and(first_bad_step_ < 0), step_ + 1);
  } else if (const double v = value.item<double>(); !std::isfinite(v)) {
    stop_on_loss(json_number(v), step_ + 1, optimizers_.size() > 1 ? name : "");
  }
  const double max_norm =
      exp_.train.grad_clip > 0 ? exp_.train.grad_clip : std::numeric_limits<double>::infinity();
  // Backward (with the average over the processes of a data-parallel run) and the update run
  // outside autocast, in the dtypes the forward recorded; bf16 needs no loss scaling.
  const AutocastPause float32_update(exp_.device);
  const auto reducer = reducers_.find(name);
  distributed::GradientReducer* averaging = reducer == reducers_.end() ? nullptr : reducer->second.get();
  grad_norms_[name] =
      gradient_step(*it->optimizer, it->parameters, loss, max_norm, averaging, stop_requested() ? 1.0F : 0.0F);
  if (averaging) stop_votes_ = averaging->votes();
  return value;
}

// run.threads 0 (auto): one thread for steps too small to share (core/threads.h), when every
// trained network knows its size; all cores otherwise (set when the experiment was built).
void Trainer::choose_threads() {
  if (exp_.run.threads > 0) return;
  int64_t per_sample = 0;
  bool known = false;
  for (const TrainedModule& m : modules_) {
    for (const auto& module : m.module->modules()) {
      if (const auto* network = dynamic_cast<const nn::Network*>(module.get())) {
        const int64_t count = network->multiply_adds_per_sample();
        if (count < 0) return;
        per_sample += count;
        known = true;
      }
    }
  }
  if (!known) return;
  const int64_t multiply_adds = per_sample * exp_.train.batch_size;
  const int64_t threads = training_threads(multiply_adds);
  if (threads == 1 && available_cores() > 1) {
    use_threads(1);
    log_info(format("threads: 1 (a step is %.1f M multiply-adds, too small to share; run.threads sets it)",
                    static_cast<double>(multiply_adds) / 1e6));
  }
}

void Trainer::run(bool resume, bool restarted) {
  const std::string dir = exp_.run_dir();
  if (writes()) {
    io::make_directories(exp_.checkpoint_dir());
    io::make_directories(dir + "/samples");
    io::make_directories(dir + "/plots");
    remove_unfinished_checkpoints(exp_.checkpoint_dir());
  }

  int64_t start = 0;
  const auto existing = list_checkpoints(exp_.checkpoint_dir());
  if (restarted) {
    resume = !existing.empty();
    log_info(resume ? "restarted by the launcher: resuming from the newest checkpoint"
                    : "restarted by the launcher before the first checkpoint: starting again");
  }
  if (resume) {
    if (existing.empty()) throw ConfigError("--resume: no checkpoint in " + exp_.checkpoint_dir());
    // The newest checkpoint that reads (a corrupt newer one is skipped with a warning).
    const auto [file, meta] = load_newest_checkpoint(exp_.checkpoint_dir(), parts());
    start = meta.step;
    task_.load_state(meta.task_state);
    if (writes()) truncate_metrics(dir + "/metrics.jsonl", start);
    log_info("resuming " + dir + " from step " + std::to_string(start) + " (" + file + ")");
  } else {
    if (!existing.empty() && !restarted) {
      throw ConfigError(dir + " already holds checkpoints; pass --resume to continue that run, or choose another " +
                        "run.name (e.g. --set run.name=NEW)");
    }
    if (writes()) std::remove((dir + "/metrics.jsonl").c_str());
    task_.prepare(static_cast<uint64_t>(exp_.run.seed));
  }
  if (writes()) exp_.config.save(dir + "/config.yaml");
  if (group_) {
    // Every process starts from rank 0's weights (equal already when seeded alike: made certain).
    std::vector<torch::Tensor> state;
    for (const TrainedModule& m : modules_) {
      for (const auto& module : {m.module, m.ema}) {
        if (!module) continue;
        for (const torch::Tensor& p : module->parameters()) state.push_back(p);
        for (const torch::Tensor& b : module->buffers()) state.push_back(b);
      }
    }
    distributed::broadcast_from_rank0(*group_, state);
    log_info(format("data-parallel: %lld processes (%s), %lld of the batch of %lld each",
                    static_cast<long long>(group_->size()), group_->backend().c_str(),
                    static_cast<long long>(exp_.train.batch_size / group_->size()),
                    static_cast<long long>(exp_.train.batch_size)));
  }
  for (const TrainedModule& m : modules_) {
    int64_t total = 0, trainable = 0;
    for (const auto& p : m.module->parameters()) {
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    log_info(format("%s: %lld parameters", m.name.c_str(), static_cast<long long>(total)) +
             (trainable == total ? "" : format(" (%lld trained)", static_cast<long long>(trainable))));
  }

  const TrainOptions& opt = exp_.train;
  choose_threads();
  for (const TrainedModule& m : modules_) m.module->train();
  install_stop_handlers();
  auto interval_start = std::chrono::steady_clock::now();
  int64_t interval_steps = 0;
  torch::Tensor interval_loss;  // the sum of the interval's losses, on the device
  last_saved_ = start > 0 ? start : -1;
  // A data-parallel run checks the processes' records together, where they meet anyway.
  defer_loss_checks_ =
      group_ || opt.loss_check == "log" || (opt.loss_check == "auto" && exp_.device.is_cuda());
  first_bad_step_ = torch::Tensor();
  // A 0-dim tensor's value, read on a logging step.
  const auto value_of = [](const torch::Tensor& t) { return t.defined() ? t.item<double>() : 0.0; };

  bool logged = false;
  for (int64_t step = start; step < opt.steps; ++step) {
    step_ = step;
    if (stop_now(logged)) {
      check_losses_finite();
      if (writes()) save(step);
      throw Interrupted("interrupted at step " + std::to_string(step) + "; checkpoint saved to " +
                        checkpoint_file(exp_.checkpoint_dir(), step) + " (continue with --resume)");
    }
    std::vector<double> lr(optimizers_.size());
    for (std::size_t i = 0; i < optimizers_.size(); ++i) {
      const LrSchedule* schedule = optimizers_[i].schedule;
      lr[i] = base_lr_[i] * (schedule ? schedule->factor(step, opt.steps) : 1.0);
      set_learning_rate(*optimizers_[i].optimizer, lr[i]);
    }
    grad_norms_.clear();
    const StepReport report = [&] {
      const PrecisionScope precision(exp_.device, opt.precision);
      return task_.step(step, generator_, *this);
    }();
    for (const TrainedModule& m : modules_) {
      if (m.ema) ema_update(*m.ema, *m.module, opt.ema.decay);
    }

    const int64_t done = step + 1;
    if (report.loss.defined()) {
      if (interval_loss.defined()) {
        interval_loss.add_(report.loss);
      } else {
        interval_loss = report.loss.clone();
      }
    }
    ++interval_steps;
    const bool eval_now = opt.eval_every > 0 && done % opt.eval_every == 0;
    const bool save_now = (opt.checkpoint_every > 0 && done % opt.checkpoint_every == 0) || done == opt.steps;
    const bool log_now = done % opt.log_every == 0 || eval_now || done == opt.steps;
    if (log_now || save_now) check_losses_finite();
    logged = log_now;
    torch::Tensor logged_loss = report.loss;
    std::map<std::string, torch::Tensor> logged_values = report.values;
    if (log_now && group_) {
      // Means over the processes (the gradient norm is the same in every process).
      std::vector<torch::Tensor*> means{&interval_loss, &logged_loss};
      for (auto& [name, value] : logged_values) means.push_back(&value);
      mean_over_processes(means);
    }
    if (log_now && writes()) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - interval_start).count();
      const double rate = interval_steps / std::max(elapsed, 1e-9);
      // The first optimizer's learning rate and gradient norm; the others' under their names.
      const double grad_norm = grad_norms_.count(optimizers_[0].name) ? value_of(grad_norms_[optimizers_[0].name]) : 0.0;
      const double loss_mean = value_of(interval_loss) / interval_steps;
      io::JsonObject json;
      json.add("step", done)
          .add("loss", value_of(logged_loss))
          .add("loss_mean", loss_mean)
          .add("lr", lr[0])
          .add("grad_norm", grad_norm);
      for (std::size_t i = 1; i < optimizers_.size(); ++i) {
        json.add(optimizers_[i].name + "_lr", lr[i]);
        if (grad_norms_.count(optimizers_[i].name)) {
          json.add(optimizers_[i].name + "_grad_norm", value_of(grad_norms_[optimizers_[i].name]));
        }
      }
      for (const auto& [name, value] : logged_values) json.add(name, value_of(value));
      json.add("steps_per_s", rate);
      std::string eval_text;
      if (eval_now) {
        // Evaluation uses its own generators so it never perturbs the training stream.
        const auto seed = static_cast<uint64_t>(exp_.run.seed) * 1000003ULL + static_cast<uint64_t>(done);
        for (const auto& [name, value] : task_.evaluate(seed)) {
          json.add(name, value);
          eval_text += " " + name + " " + json_number(value);
        }
      }
      log_metrics_line(json.str());
      log_info(format("step %lld/%lld loss %.5f lr %.3g grad %.3g %.1f it/s ETA %s", static_cast<long long>(done),
                      static_cast<long long>(opt.steps), loss_mean, lr[0], grad_norm, rate,
                      format_duration((opt.steps - done) / std::max(rate, 1e-9)).c_str()) +
               eval_text);
    }
    if (log_now) {
      interval_start = std::chrono::steady_clock::now();
      interval_steps = 0;
      interval_loss = torch::Tensor();
    }
    if (save_now) {
      if (writes()) save(done);
      last_saved_ = done;
    }
  }
  // The run ends when every process has finished (rank 0's last checkpoint included).
  if (group_) group_->barrier();
}

}  // namespace flowlab::train
