#include <torch/torch.h>

#include <cstdio>

#include "commands.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/json.h"
#include "flowlab/io/npy.h"
#include "flowlab/train/evaluation.h"
#include "run_overrides.h"

namespace flowlab::cli {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::vector<std::string> parts;
  for (int64_t s : shape) parts.push_back(std::to_string(s));
  return "[" + join(parts, ", ") + "]";
}

// The scores as a table, and as JSON with --json (after the run's own fields in `json`).
int print_scores(const LoadedRun& run, const std::map<std::string, double>& scores, io::JsonObject json,
                 const EvalArgs& args) {
  if (json.empty()) {
    json.add("run", run.experiment->run_dir()).add("task", run.experiment->task_name);
    json.add("checkpoint", run.checkpoint).add("step", run.step);
  }
  std::printf("%-20s %s\n", "metric", "value");
  for (const auto& [name, value] : scores) {
    std::printf("%-20s %.6g\n", name.c_str(), value);
    json.add(name, value);
  }
  if (!args.json.empty()) io::write_text_atomically(args.json, json.str() + "\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

int eval_command(const EvalArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (args.n) overrides.push_back("eval.n=" + std::to_string(*args.n));
  if (!args.metrics.empty()) overrides.push_back("eval.metrics=[" + join(args.metrics, ", ") + "]");
  add_sde_overrides(args.sde, args.eps, overrides);
  add_class_overrides(args.classes, args.class_mode, args.guidance, overrides);
  // Launched in several processes, each integrates its share of the samples; rank 0 scores them.
  const distributed::LaunchEnvironment launch = distributed::read_launch_environment();
  set_log_rank(launch.rank);
  LoadedRun run = load_run(args.run_dir, overrides, args.checkpoint);
  train::Experiment& exp = *run.experiment;
  if (!exp.has_flow() && launch.rank != 0) return 0;
  if (!exp.has_flow()) return print_scores(run, exp.task->evaluate(args.seed.value_or(exp.run.seed + 2)), {}, args);
  nn::Model& model = train::sampling_model(exp);
  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 2));

  torch::Tensor nll_data;
  if (!args.data.empty()) {
    nll_data = io::read_npy(args.data);
    const auto expected = exp.data->sample_shape();
    if (nll_data.dim() < 1 || nll_data.sizes().slice(1).vec() != expected) {
      throw Error("--data " + args.data + ": points must be [n] + " + shape_text(expected) + ", got " +
                  shape_text(nll_data.sizes().vec()));
    }
  }
  io::JsonObject json;
  json.add("run", exp.run_dir()).add("checkpoint", run.checkpoint).add("step", run.step).add("n", exp.eval.n);
  // The same evaluation as training's, so the numbers agree for the same seed.
  train::GeneratedSamples samples;
  const bool sampled = !exp.metrics.empty() || exp.eval.wants_class_accuracy();
  if (sampled) {
    const std::unique_ptr<distributed::ProcessGroup> group = join_launched_group(launch, exp);
    samples = train::generate_samples(exp, model, exp.eval.n, seed, group.get());
    if (launch.rank != 0) return 0;
    json.add("sampler", exp.sample.sde.enabled ? "sde " + exp.sample.sde.solver : "ode " + exp.sample.solver)
        .add("nfe", samples.nfe);
  }
  if (launch.rank != 0) return 0;  // nothing sampled: rank 0 alone scores
  if (model.num_classes() > 0) json.add("classes", exp.sample.class_mode).add("guidance", exp.sample.guidance);
  std::map<std::string, double> scores = train::evaluate(exp, model, samples, seed + 1, nll_data);
  if (sampled) scores["transport_cost"] = samples.transport_cost;
  if (exp.eval.wants_nll()) {
    json.add("nll_points", nll_data.defined() ? nll_data.size(0) : exp.eval.n)
        .add("nll_divergence", exp.eval.likelihood.divergence);
  }
  return print_scores(run, scores, json, args);
}

}  // namespace flowlab::cli
