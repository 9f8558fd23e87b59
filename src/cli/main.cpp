// The flowlab executable: parses arguments, runs one subcommand and turns
// exceptions into exit codes (0 ok, 1 failure, 2 bad usage or config, 130 interrupted).
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <utility>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "commands.h"
#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"
#include "flowlab/core/threads.h"
#include "flowlab/distributed/launch.h"

namespace {

int dispatch(int argc, char** argv) {
  using namespace flowlab::cli;
  CLI::App app{"flowlab: continuous-time generative models (flow matching, diffusion, interpolants)"};
  app.set_version_flag("--version", std::string("flowlab ") + FLOWLAB_VERSION);
  app.require_subcommand(1);

  TrainArgs train;
  auto* train_cmd = app.add_subcommand("train", "train from a YAML config");
  train_cmd->add_option("config", train.config, "YAML config file")->required();
  train_cmd->add_option("--set", train.overrides, "override a key: --set train.optimizer.lr=3e-4 (VALUE is YAML)")
      ->take_all();
  train_cmd->add_flag("--resume", train.resume, "continue the run from its newest checkpoint");

  SampleArgs sample;
  auto* sample_cmd = app.add_subcommand("sample", "draw samples from a trained run");
  sample_cmd->add_option("run_dir", sample.run_dir, "run directory (<run.dir>/<run.name>)")->required();
  sample_cmd->add_option("--n", sample.n, "number of samples");
  sample_cmd->add_option("--solver", sample.solver, "ODE solver: euler, midpoint, heun, rk4, dopri5");
  sample_cmd->add_option("--steps", sample.steps, "steps of a fixed-step solver");
  sample_cmd->add_option("--atol", sample.atol, "absolute tolerance of dopri5");
  sample_cmd->add_option("--rtol", sample.rtol, "relative tolerance of dopri5");
  sample_cmd->add_option("--seed", sample.seed, "seed of the source draws");
  sample_cmd->add_option("--checkpoint", sample.checkpoint, "checkpoint file (default: newest)");
  sample_cmd->add_option("--out", sample.out, "output .npy (default RUN_DIR/samples/samples.npy)");
  sample_cmd->add_option("--plot", sample.plot,
                         "output .png (default RUN_DIR/plots/samples.png): 2-D points beside the data, or image "
                         "samples [N, 1 or 3, H, W] as a grid (--grid-size)");
  sample_cmd->add_option("--grid-size", sample.grid_size,
                         "image samples: the grid has N columns (default 8): N rows of N samples, or for several "
                         "classes (--classes all, repeated --class) one row of N per class in class order; a single "
                         "--class K gives N rows of K. Without --n, draws just that many samples (N*N, or N per "
                         "class); with --n, fewer samples leave rows short. Pixels span data.pixel_range "
                         "([-1, 1] or [0, 1]); tiles under 64 pixels are upscaled");
  sample_cmd->add_option("--set", sample.overrides, "override a config value of the run, e.g. sample.sde.t_end=0.98");
  sample_cmd->add_flag("--sde", sample.sde, "sample with the SDE dX = (b + eps s) dt + sqrt(2 eps) dW (sample.sde)");
  sample_cmd->add_option("--eps", sample.eps, "SDE noise scale eps (implies --sde; schedule: sample.sde.eps_schedule)");
  const auto add_class_options = [](CLI::App* cmd, std::vector<int64_t>& classes, std::optional<std::string>& mode,
                                    std::optional<double>& guidance) {
    cmd->add_option("--class", classes, "class-conditional runs: sample this class (repeatable: equal shares)")
        ->allow_extra_args(false);
    cmd->add_option("--classes", mode, "class-conditional runs: all (an equal share of every class) or none "
                                       "(the unconditional model)")
        ->check(CLI::IsMember({"all", "none"}));
    cmd->add_option("--guidance", guidance,
                    "classifier-free guidance weight W: b_uncond + W (b_cond - b_uncond); 1 conditional, 0 unconditional");
  };
  add_class_options(sample_cmd, sample.classes, sample.class_mode, sample.guidance);

  EvalArgs eval;
  auto* eval_cmd = app.add_subcommand("eval", "score a trained run: sample metrics against fresh data, and nll");
  eval_cmd->add_option("run_dir", eval.run_dir, "run directory")->required();
  eval_cmd->add_option("--n", eval.n, "samples and data points");
  eval_cmd->add_option("--seed", eval.seed, "seed of the source and data draws");
  eval_cmd->add_option("--checkpoint", eval.checkpoint, "checkpoint file (default: newest)");
  eval_cmd->add_option("--json", eval.json, "also write the scores as JSON");
  eval_cmd->add_option("--metrics", eval.metrics, "metrics instead of eval.metrics, e.g. --metrics nll energy_distance");
  eval_cmd->add_option("--data", eval.data, "nll: .npy of data points [n, ...] (default: n fresh draws)");
  eval_cmd->add_option("--set", eval.overrides, "override a config value of the run, e.g. eval.likelihood.probes=8");
  eval_cmd->add_flag("--sde", eval.sde, "sample metrics on SDE samples (sample.sde)");
  eval_cmd->add_option("--eps", eval.eps, "SDE noise scale eps (implies --sde)");
  add_class_options(eval_cmd, eval.classes, eval.class_mode, eval.guidance);

  PathEnergyArgs energy;
  auto* energy_cmd = app.add_subcommand(
      "path-energy", "lambda(s) of the data, the kinetic-optimal path, and kinetic energies of Gaussian paths");
  energy_cmd->add_option("target", energy.target, "a config file, or a run directory (adds the model's energy)")
      ->required();
  energy_cmd->add_option("--paths", energy.paths, "paths to compare (default: cond_ot trig vp vp_cosine kinetic_optimal)");
  energy_cmd->add_option("--data-points", energy.data_points, "data points lambda is estimated from");
  energy_cmd->add_option("--noise-samples", energy.noise_samples, "noisy points per knot of lambda");
  energy_cmd->add_option("--knots", energy.knots, "knots of lambda (log-uniform in s)");
  energy_cmd->add_option("--n", energy.n, "points of the model's Monte-Carlo energy (default eval.n)");
  energy_cmd->add_option("--seed", energy.seed, "seed of the data and noise draws");
  energy_cmd->add_option("--checkpoint", energy.checkpoint, "checkpoint of a run (default: newest)");
  energy_cmd->add_option("--json", energy.json, "also write the results as JSON");
  energy_cmd->add_option("--plot", energy.plot, "lambda(s) as PNG (and the KO schedule beside it, *_schedule.png)");
  energy_cmd->add_option("--set", energy.overrides, "override a config value, e.g. data.type=moons")->take_all();

  DiagnoseArgs diagnose;
  auto* diagnose_cmd = app.add_subcommand(
      "diagnose", "non-conservativity of a run's velocity and score: Jacobian asymmetry and loop circulation against t");
  diagnose_cmd->add_option("run_dir", diagnose.run_dir, "run directory")->required();
  diagnose_cmd->add_option("--times", diagnose.times, "times t in (0, 1) (default 0.1 0.3 0.5 0.7 0.9)");
  diagnose_cmd->add_option("--points", diagnose.points, "points x_t per time (default 256)");
  diagnose_cmd->add_option("--probes", diagnose.probes,
                           "probes of the randomized asymmetry estimator, and of Hutchinson's divergences in the "
                           "gauge report beyond d = 64 (default 8)");
  diagnose_cmd->add_option("--radii", diagnose.radii, "loop radii (default 0.01 0.1 0.5)");
  diagnose_cmd->add_option("--loop-points", diagnose.loop_points, "quadrature points per loop (default 64)");
  diagnose_cmd->add_option("--id-time", diagnose.id_time, "time of the score-spectrum dimension estimate (default 0.99)");
  diagnose_cmd->add_option("--id-points", diagnose.id_points, "data points of the dimension estimate; 0 skips it (100)");
  diagnose_cmd->add_option("--id-samples", diagnose.id_samples, "scores per point (default 4 D)");
  diagnose_cmd->add_option("--id-directions", diagnose.id_directions,
                           "random directions carried by the flow-Jacobian dimension (default min(D, 64); D: exact)");
  diagnose_cmd->add_option("--gauge-steps", diagnose.gauge_steps,
                           "fit the conservative part grad phi for this many steps and report the remainder, the fit's "
                           "error (a second fit, to the remainder) and what it costs to sample with grad phi alone "
                           "(default 0: skip)");
  diagnose_cmd->add_option("--seed", diagnose.seed, "seed of the points, probes and planes");
  add_class_options(diagnose_cmd, diagnose.classes, diagnose.class_mode, diagnose.guidance);
  diagnose_cmd->add_option("--checkpoint", diagnose.checkpoint, "checkpoint file (default: newest)");
  diagnose_cmd->add_option("--json", diagnose.json, "also write the results as JSON");
  diagnose_cmd->add_option("--plot", diagnose.plot, "asymmetry and circulation against t as PNG");
  diagnose_cmd->add_option("--set", diagnose.overrides, "override a config value of the run")->take_all();

  OtArgs ot;
  auto* ot_cmd = app.add_subcommand("ot", "a distance between two point clouds (.npy [n, d]) by any metric of "
                                          "`flowlab list metrics`");
  ot_cmd->add_option("a", ot.a, "first cloud, .npy [n, d]")->required();
  ot_cmd->add_option("b", ot.b, "second cloud, .npy [m, d]")->required();
  ot_cmd->add_option("--metric", ot.metric,
                     "sinkhorn (debiased divergence; default), exact (W_c by assignment), exact_w2, sliced_w2, mmd, "
                     "energy_distance");
  // Shorthands for the metrics' own keys; each is passed only when given, so defaults are the metric's.
  struct MetricFlag {
    const char *flag, *key, *help;
  };
  const MetricFlag metric_flags[] = {
      {"--eps", "eps", "sinkhorn: regularisation eps, in cost units"},
      {"--cost", "cost", "sinkhorn, exact: sqeuclidean |x-y|^2 (POT, OTT), half_sqeuclidean (GeomLoss p=2), euclidean"},
      {"--value", "value", "sinkhorn: kl (GeomLoss, OTT; default), entropy, transport (POT's <P,C>)"},
      {"--scaling", "scaling", "sinkhorn: eps annealing factor in (0, 1]; 1 = no annealing"},
      {"--relaxation", "relaxation", "sinkhorn: over-relaxation w in (0, 2); 0 = adaptive, 1 = plain"},
      {"--tolerance", "tolerance", "sinkhorn: marginal error (L1) to stop at"},
      {"--max-iter", "max_iterations", "sinkhorn: cap on updates"},
      {"--value-tolerance", "value_tolerance",
       "sinkhorn: accept a run short of --tolerance when its value is certified within this x |value|"},
      {"--projections", "projections", "sliced_w2: random directions"},
      {"--p", "p", "sliced_w2: order p of W_p"},
      {"--bandwidth", "bandwidth", "mmd: RBF bandwidth; 0 = median heuristic"},
      {"--max-points", "max_points", "exact, exact_w2: points per side (the first ones)"},
  };
  std::vector<std::pair<CLI::Option*, std::string>> given_metric_flags;
  std::map<std::string, std::string> metric_flag_values;
  for (const MetricFlag& f : metric_flags) {
    given_metric_flags.emplace_back(ot_cmd->add_option(f.flag, metric_flag_values[f.key], f.help), f.key);
  }
  std::vector<std::string> metric_settings;
  ot_cmd->add_option("--set", metric_settings, "KEY=VALUE: any other key of the metric (flowlab list metrics)")
      ->take_all();
  ot_cmd->add_option("--seed", ot.seed, "sliced_w2: seed of the directions");
  ot_cmd->add_option("--device", ot.device, "cpu or cuda (default cpu)");
  ot_cmd->add_flag("--float32", ot.float32, "load and compute in float32 (default float64)");
  ot_cmd->add_flag("--json", ot.json, "print one JSON object instead of text");
  ot_cmd->add_option("--repeat", ot.repeat, "compute N times in this process and report the fastest (benchmarks)")
      ->check(CLI::PositiveNumber);

  std::string family;
  auto* list_cmd = app.add_subcommand("list", "list components with their options, defaults and docs");
  list_cmd->add_option("family", family, "only this family (data, sources, paths, networks, ...)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A mistyped command: CLI11 says only that one is required; name the closest.
    if (argc > 1 && argv[1][0] != '-') {
      std::vector<std::string> commands;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) commands.push_back(sub->get_name());
      if (std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
        std::cerr << "flowlab: " << flowlab::unknown_name("command", argv[1], commands) << "\n";
        return flowlab::kExitUsage;
      }
    }
    const int code = app.exit(e);
    return code == 0 ? flowlab::kExitOk : flowlab::kExitUsage;
  }
  if (*train_cmd) return train_command(train);
  if (*sample_cmd) return sample_command(sample);
  if (*eval_cmd) return eval_command(eval);
  if (*energy_cmd) return path_energy_command(energy);
  if (*diagnose_cmd) return diagnose_command(diagnose);
  if (*ot_cmd) {
    for (const auto& [option, key] : given_metric_flags) {
      if (option->count() > 0) ot.settings.push_back(key + "=" + metric_flag_values[key]);
    }
    ot.settings.insert(ot.settings.end(), metric_settings.begin(), metric_settings.end());
    return ot_command(ot);
  }
  return list_command(family);
}

// Large tensors come from the heap and stay there once freed: glibc maps each allocation above a
// threshold afresh and unmaps it on free, so every new n x m buffer (a cost matrix, a kernel, an
// activation) costs a pass of page faults, about as much as computing it. One process runs one
// command, so holding on to freed memory until exit is the better trade.
void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  flowlab::use_threads();  // every command; a run's `run.threads` overrides it
  flowlab::init_logging();
  // A process of a run launched by torchrun reports its failure in torchrun's error file too.
  const auto fail = [](const std::string& message, int code) {
    std::cerr << "flowlab: " << message << "\n";
    if (const char* file = std::getenv("TORCHELASTIC_ERROR_FILE"); file && *file) {
      flowlab::distributed::write_error_file(file, "flowlab: " + message);
    }
    return code;
  };
  try {
    return dispatch(argc, argv);
  } catch (const flowlab::Interrupted& e) {
    std::cerr << "flowlab: " << e.what() << "\n";
    return flowlab::kExitInterrupted;
  } catch (const flowlab::ConfigError& e) {
    return fail(std::string("config error: ") + e.what(), flowlab::kExitUsage);
  } catch (const flowlab::Error& e) {
    return fail(std::string("error: ") + e.what(), flowlab::kExitFailure);
  } catch (const c10::Error& e) {
    return fail(std::string("error: ") + e.what_without_backtrace(), flowlab::kExitFailure);
  } catch (const std::exception& e) {
    return fail(std::string("error: ") + e.what(), flowlab::kExitFailure);
  }
}
