#include <torch/torch.h>

#include <chrono>

#include "commands.h"
#include "flowlab/core/log.h"
#include "flowlab/io/npy.h"
#include "flowlab/io/plot.h"
#include "flowlab/train/evaluation.h"
#include "run_loading.h"

namespace flowlab::cli {

int sample_command(const SampleArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (args.n) overrides.push_back("sample.n=" + std::to_string(*args.n));
  if (args.solver) overrides.push_back("sample.solver=" + *args.solver);
  if (args.steps) overrides.push_back("sample.steps=" + std::to_string(*args.steps));
  if (args.atol) overrides.push_back("sample.atol=" + std::to_string(*args.atol));
  if (args.rtol) overrides.push_back("sample.rtol=" + std::to_string(*args.rtol));
  add_sde_overrides(args.sde, args.eps, overrides);
  LoadedRun run = load_run(args.run_dir, overrides, args.checkpoint);
  train::Experiment& exp = *run.experiment;
  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 1));

  const auto start = std::chrono::steady_clock::now();
  const train::GeneratedSamples samples =
      train::generate_samples(exp, train::sampling_model(exp), exp.sample.n, seed);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string out = args.out.empty() ? exp.run_dir() + "/samples/samples.npy" : args.out;
  io::write_npy(out, samples.x);
  const std::string method = exp.sample.sde.enabled ? "SDE " + exp.sample.sde.solver + " eps " +
                                                           exp.sample.sde.eps.type + " " +
                                                           format("%g", exp.sample.sde.eps.eps)
                                                     : exp.sample.solver;
  log_info(format("%lld samples from %s (step %lld) with %s: %lld field evaluations, %lld rejected steps, %.2f s -> %s",
                  static_cast<long long>(exp.sample.n), run.checkpoint.c_str(), static_cast<long long>(run.step),
                  method.c_str(), static_cast<long long>(samples.nfe),
                  static_cast<long long>(samples.rejected), seconds, out.c_str()));
  if (samples.x.dim() == 2 && samples.x.size(1) >= 2) {
    const std::string plot = args.plot.empty() ? exp.run_dir() + "/plots/samples.png" : args.plot;
    auto gen = data::make_generator(seed + 1);
    io::plot_samples_beside_data(plot, samples.x, exp.data->sample(samples.x.size(0), gen).x);
    log_info("plot (data left, samples right) -> " + plot);
  } else if (!args.plot.empty()) {
    log_warn("--plot: samples are not 2-D points; no plot written");
  }
  return 0;
}

}  // namespace flowlab::cli
