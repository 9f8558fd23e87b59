#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "commands.h"
#include "flowlab/core/log.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/npy.h"
#include "flowlab/io/plot.h"
#include "flowlab/train/evaluation.h"
#include "run_overrides.h"

namespace flowlab::cli {
namespace {

// "<dir>/samples.npy" -> "<dir>/samples_labels.npy".
std::string labels_file(const std::string& samples_file) {
  const auto dot = samples_file.rfind(".npy");
  const std::string stem = dot != std::string::npos && dot + 4 == samples_file.size() ? samples_file.substr(0, dot)
                                                                                      : samples_file;
  return stem + "_labels.npy";
}

// A run copied without its (empty) samples/ and plots/ folders still samples.
void make_parent_directory(const std::string& file) {
  const std::filesystem::path parent = std::filesystem::path(file).parent_path();
  if (!parent.empty()) io::make_directories(parent.string());
}

}  // namespace

int sample_command(const SampleArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (args.n) overrides.push_back("sample.n=" + std::to_string(*args.n));
  if (args.solver) overrides.push_back("sample.solver=" + *args.solver);
  if (args.steps) overrides.push_back("sample.steps=" + std::to_string(*args.steps));
  if (args.atol) overrides.push_back("sample.atol=" + std::to_string(*args.atol));
  if (args.rtol) overrides.push_back("sample.rtol=" + std::to_string(*args.rtol));
  add_sde_overrides(args.sde, args.eps, overrides);
  add_class_overrides(args.classes, args.class_mode, args.guidance, overrides);
  train::require_flow(args.run_dir, "flowlab sample");
  LoadedRun run = load_run(args.run_dir, overrides, args.checkpoint);
  train::Experiment& exp = *run.experiment;
  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 1));

  const auto start = std::chrono::steady_clock::now();
  const train::GeneratedSamples samples =
      train::generate_samples(exp, train::sampling_model(exp), exp.sample.n, seed);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string out = args.out.empty() ? exp.run_dir() + "/samples/samples.npy" : args.out;
  make_parent_directory(out);
  io::write_npy(out, samples.x);
  const std::string method = exp.sample.sde.enabled ? "SDE " + exp.sample.sde.solver + " eps " +
                                                           exp.sample.sde.eps.type + " " +
                                                           format("%g", exp.sample.sde.eps.eps)
                                                     : exp.sample.solver;
  log_info(format("%lld samples from %s (step %lld) with %s: %lld field evaluations, %lld rejected steps, %.2f s -> %s",
                  static_cast<long long>(exp.sample.n), run.checkpoint.c_str(), static_cast<long long>(run.step),
                  method.c_str(), static_cast<long long>(samples.nfe),
                  static_cast<long long>(samples.rejected), seconds, out.c_str()));
  if (samples.labels.defined()) {
    io::write_npy(labels_file(out), samples.labels);
    log_info(format("classes (%s, guidance %g) -> %s", exp.sample.class_mode.c_str(), exp.sample.guidance,
                    labels_file(out).c_str()));
  }
  if (samples.x.dim() == 2 && samples.x.size(1) >= 2) {
    const std::string plot = args.plot.empty() ? exp.run_dir() + "/plots/samples.png" : args.plot;
    make_parent_directory(plot);
    auto gen = data::make_generator(seed + 1);
    // Beside class-conditional samples, data of the same classes.
    const torch::Tensor reference = samples.labels.defined()
                                        ? data::sample_of_classes(*exp.data, samples.labels, gen)
                                        : exp.data->sample(samples.x.size(0), gen).x;
    io::plot_samples_beside_data(plot, samples.x, reference);
    log_info("plot (data left, samples right) -> " + plot);
  } else if (!args.plot.empty()) {
    log_warn("--plot: samples are not 2-D points; no plot written");
  }
  return 0;
}

}  // namespace flowlab::cli
