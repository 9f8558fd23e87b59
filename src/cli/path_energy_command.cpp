// `flowlab path-energy`: the data separation function lambda(s) of a config's (or a run's) data,
// the kinetic-optimal schedule by both methods, the kinetic energy of Gaussian paths on that data
// by the lambda formula, and, for a trained run, the model's own energy by Monte Carlo.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "commands.h"
#include "flowlab/builtins.h"
#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/threads.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/json.h"
#include "flowlab/io/figure.h"
#include "flowlab/paths/kinetic_energy.h"
#include "flowlab/paths/kinetic_optimal.h"
#include "flowlab/train/evaluation.h"
#include "run_overrides.h"

namespace flowlab::cli {
namespace {

const std::vector<std::string> kDefaultPaths{"cond_ot", "trig", "vp", "vp_cosine", "kinetic_optimal"};

io::Series series(const std::string& label, std::size_t colour) {
  io::Series s;
  s.label = label;
  s.colour = io::series_colour(colour);
  return s;
}

struct EnergyRow {
  std::string path;
  double energy = 0.0, conditional = 0.0;
};

void write_lambda_plot(const std::string& file, const paths::DataSeparation& sep) {
  io::Series estimate = series("Monte Carlo (+-1 s.e.)", 0), smoothed = series("monotone fit", 1),
             gaussian = series("Gaussian data: s^2/(1+s^2)", 7);
  estimate.line = false, estimate.markers = true;
  gaussian.dashed = true;
  for (const auto& k : sep.knots()) {
    estimate.x.push_back(k.s), estimate.y.push_back(k.lambda), estimate.y_error.push_back(k.lambda_se);
  }
  const double lo = std::log(sep.knots().front().s), hi = std::log(sep.knots().back().s);
  for (int i = 0; i <= 400; ++i) {
    const double s = std::exp(lo + (hi - lo) * i / 400.0);
    smoothed.x.push_back(s), gaussian.x.push_back(s);
    smoothed.y.push_back(sep.lambda(torch::tensor(s, torch::kFloat64)).item<double>());
    gaussian.y.push_back(s * s / (1 + s * s));
  }
  io::Figure figure;
  figure.panels.resize(1);
  io::Panel& panel = figure.panels[0];
  panel.title = "data separation lambda(s)";
  panel.x_label = "s = sqrt(mu2) a/m  (sqrt SNR of the data scaled to unit second moment)";
  panel.y_label = "lambda(s) / mu2";
  panel.log_x = true;
  panel.series = {estimate, smoothed, gaussian};
  figure.panel_width = 640;
  io::write_figure(file, figure);
}

void write_schedule_plot(const std::string& file, const paths::KineticOptimalSchedule& ko) {
  io::Series a = series("KO a_t", 0), m = series("KO m_t", 1), a_ot = series("Cond-OT a_t = t", 7),
             m_ot = series("Cond-OT m_t = 1 - t", 7);
  const paths::KineticOptimalPath path(ko);
  const auto t = torch::linspace(0, 1, 501, torch::kFloat64);
  const paths::Coefficients c = path.at(t);
  for (int64_t i = 0; i < t.size(0); ++i) {
    a.x.push_back(t[i].item<double>()), a.y.push_back(c.beta[i].item<double>());
    m.x.push_back(t[i].item<double>()), m.y.push_back(c.alpha[i].item<double>());
  }
  a_ot.x = {0.0, 1.0}, a_ot.y = {0.0, 1.0}, m_ot.x = {0.0, 1.0}, m_ot.y = {1.0, 0.0};
  a_ot.colour = a.colour, m_ot.colour = m.colour;  // each reference dashed in its KO curve's colour
  a_ot.dashed = m_ot.dashed = true;
  io::Figure figure;
  figure.panels.resize(1);
  io::Panel& panel = figure.panels[0];
  panel.title = "kinetic-optimal schedule x_t = m_t x0 + a_t x1";
  panel.x_label = "t";
  panel.y_label = "coefficient";
  panel.series = {a, m, a_ot, m_ot};
  io::write_figure(file, figure);
}

std::string schedule_plot_file(const std::string& lambda_file) {
  const std::filesystem::path p(lambda_file);
  return (p.parent_path() / (p.stem().string() + "_schedule.png")).string();
}

}  // namespace

int path_energy_command(const PathEnergyArgs& args) {
  // A run gives its data, path and model; a config needs only `data:` (and optionally `path:`).
  LoadedRun run;
  std::unique_ptr<data::Dataset> config_data;
  std::unique_ptr<paths::Path> config_path;
  const data::Dataset* dataset = nullptr;
  const paths::Path* own_path = nullptr;
  std::string own_type;
  int64_t run_seed = 0;
  const bool is_run = std::filesystem::is_directory(args.target);
  if (is_run) {
    train::require_flow(args.target, "flowlab path-energy");
    run = load_run(args.target, args.overrides, args.checkpoint);
    dataset = run.experiment->data.get();
    own_path = run.experiment->path.get();
    own_type = run.experiment->config.section("path").require<std::string>("type");
    run_seed = run.experiment->run.seed;
  } else {
    if (!std::filesystem::is_regular_file(args.target)) {
      throw Error(args.target + ": no such config file or run directory");
    }
    register_builtins();
    config::Node config = config::Node::load_file(args.target);
    for (const auto& o : args.overrides) config.apply_override(o);
    config::Node data_node = config.section("data", "the data x1");
    config_data = data::dataset_registry().create(data_node);
    dataset = config_data.get();
    if (config.has("path")) {
      config::Node path_node = config.section("path");
      config_path = paths::path_registry().create(path_node);
      own_path = config_path.get();
      own_type = path_node.require<std::string>("type");
    }
    if (config.has("run")) {
      config::Node run_node = config.section("run");
      run_seed = run_node.get<int64_t>("seed", 0);
      use_threads(run_node.get<int64_t>("threads", 0));
    }
  }
  const auto* ko_path = dynamic_cast<const paths::KineticOptimalPath*>(own_path);
  paths::SeparationOptions options = ko_path ? ko_path->options().separation : paths::SeparationOptions{};
  // The command-line values go through the options' own reader, so errors name the option.
  config::Node given = config::Node::parse("{}", "the command line");
  if (args.data_points) given.apply_override("data_points=" + std::to_string(*args.data_points));
  if (args.noise_samples) given.apply_override("noise_samples=" + std::to_string(*args.noise_samples));
  if (args.knots) given.apply_override("knots=" + std::to_string(*args.knots));
  const paths::SeparationOptions from_command_line = paths::SeparationOptions::read(given);
  if (args.data_points) options.data_points = from_command_line.data_points;
  if (args.noise_samples) options.noise_samples = from_command_line.noise_samples;
  if (args.knots) options.knots = from_command_line.knots;

  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(run_seed + 7));
  auto gen = data::make_generator(seed);
  const torch::Tensor data = dataset->sample(options.data_points, gen).x;
  const int64_t dim = data[0].numel();
  const paths::DataSeparation sep = paths::DataSeparation::estimate(data, options, gen);
  std::printf("data: %lld points, d = %lld, mu2 = (1/d) E|x|^2 = %.6g, lambda'(0) = |E x|^2/(d mu2) = %.6g\n",
              static_cast<long long>(data.size(0)), static_cast<long long>(dim), sep.second_moment(),
              sep.lambda_at_zero());
  std::printf("lambda'(s') = lambda(s)/mu2 at s' = sqrt(mu2) a/m (%lld noisy points per knot):\n",
              static_cast<long long>(options.noise_samples));
  std::printf("%12s %12s %12s %12s %12s %12s\n", "s=a/m", "s'", "lambda'", "std_err", "monotone", "gaussian");
  const double root = std::sqrt(sep.second_moment());
  for (const auto& k : sep.knots()) {
    std::printf("%12.5g %12.5g %12.6f %12.2e %12.6f %12.6f\n", k.s / root, k.s, k.lambda, k.lambda_se, k.smoothed,
                k.s * k.s / (1 + k.s * k.s));
  }

  const paths::KineticOptimalSchedule closed = paths::kinetic_optimal_closed_form(sep);
  const paths::KineticOptimalSchedule minimised = paths::kinetic_optimal_minimised(sep);
  const paths::KineticOptimalPath closed_path(closed);
  const double gap = paths::schedule_gap(closed, minimised);
  std::printf("\nkinetic-optimal path: Phi = %.6f, energy %.6f (closed form 1 + mu2 - 2 sqrt(mu2) cos Phi), %.6f "
              "(minimised); schedules within %.2g\n",
              closed.phi, closed.energy, minimised.energy, gap);

  std::vector<EnergyRow> rows;
  const std::vector<std::string>& names = args.paths.empty() ? kDefaultPaths : args.paths;
  for (const auto& name : names) {
    if (name == "kinetic_optimal") {
      const paths::PathEnergy e = paths::path_kinetic_energy(closed_path, sep);
      rows.push_back({name, e.energy, e.conditional});
      continue;
    }
    config::Node node = config::Node::parse("type: " + name, "--paths");
    const auto path = paths::path_registry().create(node);
    if (!path->gaussian_source() || path->mirror()) {
      log_warn("path-energy: skipping " + name + " (not a Gaussian-source path)");
      continue;
    }
    const paths::PathEnergy e = paths::path_kinetic_energy(*path, sep);
    rows.push_back({name, e.energy, e.conditional});
  }
  if (own_path && !own_path->needs_fit() && own_path->gaussian_source() && !own_path->mirror()) {
    const paths::PathEnergy e = paths::path_kinetic_energy(*own_path, sep);
    rows.push_back({"this run: " + own_type, e.energy, e.conditional});
  }
  std::printf("\nkinetic energy (1/d) int_0^%.5f E|u_t|^2 dt by the lambda formula:\n", paths::kEnergyTimeMax);
  std::printf("%-28s %12s %14s\n", "path", "energy", "conditional");
  for (const auto& r : rows) std::printf("%-28s %12.6f %14.6f\n", r.path.c_str(), r.energy, r.conditional);

  paths::EnergyEstimate model_energy;
  const bool model_measured = is_run && own_path->gaussian_source() && !own_path->mirror();
  if (model_measured) {
    train::Experiment& exp = *run.experiment;
    const int64_t n = args.n.value_or(exp.eval.n);
    auto model_gen = data::make_generator(seed + 1);
    model_energy =
        train::estimate_kinetic_energy(exp, train::sampling_model(exp), exp.data->sample(n, model_gen).x, seed + 2);
    std::printf("\nthe trained model (step %lld), Monte Carlo over %lld points: %.6f +- %.6f\n",
                static_cast<long long>(run.step), static_cast<long long>(n), model_energy.value, model_energy.se);
  }
  std::fflush(stdout);

  if (!args.json.empty()) {
    io::JsonArray lambda;
    for (const auto& k : sep.knots()) {
      lambda.push(io::JsonObject()
                      .add("s", k.s / root)
                      .add("s_normalised", k.s)
                      .add("lambda", k.lambda)
                      .add("std_err", k.lambda_se)
                      .add("monotone", k.smoothed));
    }
    io::JsonObject energies;
    for (const auto& r : rows) energies.add(r.path, r.energy);
    io::JsonObject json;
    json.add("data_points", data.size(0))
        .add("dim", dim)
        .add("second_moment", sep.second_moment())
        .add("lambda_at_zero", sep.lambda_at_zero())
        .add("lambda", lambda)
        .add("kinetic_optimal", io::JsonObject()
                                    .add("phi", closed.phi)
                                    .add("energy", closed.energy)
                                    .add("minimised_energy", minimised.energy)
                                    .add("schedule_gap", gap))
        .add("energy", energies);
    if (model_measured) json.add("model_energy", model_energy.value).add("model_energy_se", model_energy.se);
    io::write_text_atomically(args.json, json.str() + "\n");
  }
  if (!args.plot.empty()) {
    write_lambda_plot(args.plot, sep);
    write_schedule_plot(schedule_plot_file(args.plot), closed);
    log_info("wrote " + args.plot + " and " + schedule_plot_file(args.plot));
  }
  return 0;
}

}  // namespace flowlab::cli
