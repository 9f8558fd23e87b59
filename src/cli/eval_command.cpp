#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "commands.h"
#include "flowlab/core/strings.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/npy.h"
#include "flowlab/train/evaluation.h"
#include "run_loading.h"

namespace flowlab::cli {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::vector<std::string> parts;
  for (int64_t s : shape) parts.push_back(std::to_string(s));
  return "[" + join(parts, ", ") + "]";
}

}  // namespace

int eval_command(const EvalArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (args.n) overrides.push_back("eval.n=" + std::to_string(*args.n));
  if (!args.metrics.empty()) overrides.push_back("eval.metrics=[" + join(args.metrics, ", ") + "]");
  add_sde_overrides(args.sde, args.eps, overrides);
  LoadedRun run = load_run(args.run_dir, overrides, args.checkpoint);
  train::Experiment& exp = *run.experiment;
  nn::Model& model = train::sampling_model(exp);
  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 2));

  std::map<std::string, double> scores;
  std::ostringstream json;
  json.precision(9);
  json << "{\"run\": \"" << exp.run_dir() << "\", \"checkpoint\": \"" << run.checkpoint << "\", \"step\": " << run.step
       << ", \"n\": " << exp.eval.n;
  if (!exp.metrics.empty()) {
    const train::GeneratedSamples samples = train::generate_samples(exp, model, exp.eval.n, seed);
    scores = train::score_samples(exp, samples.x, seed + 1);
    scores["transport_cost"] = samples.transport_cost;
    json << ", \"sampler\": \""
         << (exp.sample.sde.enabled ? "sde " + exp.sample.sde.solver : "ode " + exp.sample.solver)
         << "\", \"nfe\": " << samples.nfe;
  }
  if (exp.eval.wants_nll()) {
    torch::Tensor data;
    if (!args.data.empty()) {
      data = io::read_npy(args.data);
    } else {
      auto gen = data::make_generator(seed + 3);
      data = exp.data->sample(exp.eval.n, gen).x;
    }
    const auto expected = exp.data->sample_shape();
    if (data.dim() < 1 || data.sizes().slice(1).vec() != expected) {
      throw Error("--data " + args.data + ": points must be [n] + " + shape_text(expected) + ", got " +
                  shape_text(data.sizes().vec()));
    }
    const train::NllEstimate e = train::estimate_nll(exp, model, data, seed + 4);
    scores["nll"] = e.nll;
    scores["nll_se"] = e.nll_se;
    scores["bpd"] = e.bpd;
    scores["bpd_se"] = e.bpd_se;
    json << ", \"nll_points\": " << data.size(0) << ", \"nll_divergence\": \"" << exp.eval.likelihood.divergence
         << "\", \"nll_nfe\": " << e.nfe;
  }
  if (exp.eval.wants_kinetic_energy()) {
    auto gen = data::make_generator(seed + 5);
    const paths::EnergyEstimate e =
        train::estimate_kinetic_energy(exp, model, exp.data->sample(exp.eval.n, gen).x, seed + 6);
    scores["kinetic_energy"] = e.value;
    scores["kinetic_energy_se"] = e.se;
  }
  std::printf("%-20s %s\n", "metric", "value");
  for (const auto& [name, value] : scores) {
    std::printf("%-20s %.6g\n", name.c_str(), value);
    json << ", \"" << name << "\": " << json_number(value);
  }
  json << "}\n";
  if (!args.json.empty()) io::write_text_atomically(args.json, json.str());
  std::fflush(stdout);
  return 0;
}

}  // namespace flowlab::cli
