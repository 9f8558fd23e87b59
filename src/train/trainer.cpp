#include "flowlab/train/trainer.h"

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"
#include "flowlab/data/dataset.h"
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

// Seeds of the data a path is computed from (kinetic_optimal), offset from run.seed.
constexpr uint64_t kPathDataSeedOffset = 0x5eed0f;

}  // namespace

void install_stop_handlers() {
  g_stop.store(false);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() { return g_stop.load(); }

Trainer::Trainer(Experiment& experiment)
    : exp_(experiment),
      generator_(data::make_generator(static_cast<uint64_t>(experiment.run.seed))),
      learning_rate_base_(learning_rate(*experiment.optimizer)) {}

void Trainer::log_metrics_line(const std::string& json) {
  const std::string file = exp_.run_dir() + "/metrics.jsonl";
  std::ofstream out(file, std::ios::app);
  out << json << "\n";
  out.flush();
  if (!out) throw Error("cannot append to " + file + ": " + std::strerror(errno));
}

void Trainer::save(int64_t step) {
  CheckpointMeta meta{step, exp_.config.to_yaml(), exp_.path->state()};
  // The generator state is part of the checkpoint so the data stream resumes exactly.
  save_checkpoint(checkpoint_file(exp_.checkpoint_dir(), step), meta, *exp_.model, *exp_.ema_model,
                  *exp_.optimizer, generator_);
  prune_checkpoints(exp_.checkpoint_dir(), exp_.train.keep_last);
}

void Trainer::run(bool resume) {
  const std::string dir = exp_.run_dir();
  io::make_directories(exp_.checkpoint_dir());
  io::make_directories(dir + "/samples");
  io::make_directories(dir + "/plots");

  int64_t start = 0;
  const auto existing = list_checkpoints(exp_.checkpoint_dir());
  if (resume) {
    if (existing.empty()) throw ConfigError("--resume: no checkpoint in " + exp_.checkpoint_dir());
    const CheckpointMeta meta =
        load_checkpoint(existing.back(), exp_.model.get(), exp_.ema_model.get(), exp_.optimizer.get(), &generator_);
    start = meta.step;
    exp_.path->load_state(meta.path_state);
    truncate_metrics(dir + "/metrics.jsonl", start);
    log_info("resuming " + dir + " from step " + std::to_string(start) + " (" + existing.back() + ")");
  } else {
    if (!existing.empty()) {
      throw ConfigError(dir + " already holds checkpoints; pass --resume to continue that run, or choose another " +
                        "run.name (e.g. --set run.name=NEW)");
    }
    std::remove((dir + "/metrics.jsonl").c_str());
    if (exp_.path->needs_fit()) {
      // Its own generators, so the training stream is the same with any path.
      auto data_gen = data::make_generator(static_cast<uint64_t>(exp_.run.seed) + kPathDataSeedOffset);
      const paths::DataDraw draw = [&](int64_t n) { return exp_.data->sample(n, data_gen).x; };
      log_info(exp_.path->fit(draw, static_cast<uint64_t>(exp_.run.seed) + kPathDataSeedOffset + 1));
    }
  }
  exp_.config.save(dir + "/config.yaml");

  const TrainOptions& opt = exp_.train;
  auto params = exp_.model->parameters();
  exp_.model->train();
  install_stop_handlers();
  auto interval_start = std::chrono::steady_clock::now();
  int64_t interval_steps = 0;
  double interval_loss = 0.0;
  int64_t last_saved = start > 0 ? start : -1;

  for (int64_t step = start; step < opt.steps; ++step) {
    if (stop_requested()) {
      save(step);
      throw Interrupted("interrupted at step " + std::to_string(step) + "; checkpoint saved to " +
                        checkpoint_file(exp_.checkpoint_dir(), step) + " (continue with --resume)");
    }
    const double lr = learning_rate_base_ * exp_.schedule->factor(step, opt.steps);
    set_learning_rate(*exp_.optimizer, lr);

    const data::Batch data_batch = exp_.data->sample(opt.batch_size, generator_);
    const torch::Tensor x1 = data_batch.x.to(exp_.device);
    // The mirror interpolant connects the data to itself: x0 = x1.
    torch::Tensor x0 = x1;
    if (!exp_.path->mirror()) {
      data::Batch source_batch = exp_.source->sample(opt.batch_size, generator_);
      if (exp_.coupling->active()) source_batch = exp_.coupling->pair(source_batch, data_batch, generator_);
      x0 = source_batch.x.to(exp_.device);
    }
    // A class-conditional model learns from the data's labels.
    const data::Condition condition{exp_.model->num_classes() > 0 ? data_batch.label.to(exp_.device) : torch::Tensor()};
    exp_.optimizer->zero_grad();
    const torch::Tensor loss = exp_.objective->loss(*exp_.model, *exp_.path, x0, x1, generator_, condition);
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) {
      const std::string kept = last_saved >= 0 ? checkpoint_file(exp_.checkpoint_dir(), last_saved) : "none";
      throw Error("loss is " + json_number(loss_value) + " at step " + std::to_string(step + 1) +
                  "; training stopped. Last good checkpoint: " + kept);
    }
    loss.backward();
    const double max_norm = opt.grad_clip > 0 ? opt.grad_clip : std::numeric_limits<double>::infinity();
    const double grad_norm = torch::nn::utils::clip_grad_norm_(params, max_norm);
    exp_.optimizer->step();
    ema_update(*exp_.ema_model, *exp_.model, opt.ema.decay);

    const int64_t done = step + 1;
    interval_loss += loss_value;
    ++interval_steps;
    const bool eval_now = opt.eval_every > 0 && done % opt.eval_every == 0;
    if (done % opt.log_every == 0 || eval_now || done == opt.steps) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - interval_start).count();
      const double rate = interval_steps / std::max(elapsed, 1e-9);
      io::JsonObject json;
      json.add("step", done)
          .add("loss", loss_value)
          .add("loss_mean", interval_loss / interval_steps)
          .add("lr", lr)
          .add("grad_norm", grad_norm)
          .add("steps_per_s", rate);
      std::string eval_text;
      if (eval_now) {
        // Evaluation uses its own generators so it never perturbs the training stream.
        const auto seed = static_cast<uint64_t>(exp_.run.seed) * 1000003ULL + static_cast<uint64_t>(done);
        nn::Model& model = sampling_model(exp_);
        const GeneratedSamples samples = generate_samples(exp_, model, exp_.eval.n, seed);
        for (const auto& [name, value] : evaluate(exp_, model, samples, seed + 1)) {
          json.add(name, value);
          eval_text += " " + name + " " + json_number(value);
        }
      }
      log_metrics_line(json.str());
      log_info(format("step %lld/%lld loss %.5f lr %.3g grad %.3g %.1f it/s ETA %s", static_cast<long long>(done),
                      static_cast<long long>(opt.steps), interval_loss / interval_steps, lr, grad_norm, rate,
                      format_duration((opt.steps - done) / std::max(rate, 1e-9)).c_str()) +
               eval_text);
      interval_start = std::chrono::steady_clock::now();
      interval_steps = 0;
      interval_loss = 0.0;
    }
    if ((opt.checkpoint_every > 0 && done % opt.checkpoint_every == 0) || done == opt.steps) {
      save(done);
      last_saved = done;
    }
  }
}

}  // namespace flowlab::train
