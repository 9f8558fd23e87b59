// `flowlab diagnose`: the diagnostics report (diagnostics/report.h) of a trained run, printed,
// written as JSON and drawn.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "commands.h"
#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"
#include "flowlab/diagnostics/report.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/field_plot.h"
#include "flowlab/io/json.h"
#include "flowlab/io/figure.h"
#include "flowlab/train/diagnosis.h"
#include "flowlab/train/evaluation.h"
#include "run_overrides.h"

namespace flowlab::cli {
namespace {

io::FigureFiles write_plot(const std::string& file, const std::vector<diagnostics::FieldDiagnosis>& reports,
                           const std::vector<double>& radii) {
  std::vector<io::Series> series;
  std::size_t colour = 0;
  for (const std::string field : {"velocity", "score"}) {
    io::Series a;
    a.label = field + ": asymmetry A (+-1 s.e.)";
    a.colour = io::series_colour(colour++);
    a.markers = true;
    for (const auto& r : reports) {
      if (r.field != field) continue;
      const auto& e = r.has_exact ? r.exact : r.randomized;
      a.x.push_back(r.t), a.y.push_back(e.mean), a.y_error.push_back(e.se);
    }
    if (!a.x.empty()) series.push_back(a);
    for (std::size_t k = 0; k < radii.size(); ++k) {
      io::Series c;
      char label[96];
      std::snprintf(label, sizeof label, "%s: |circulation| / magnitude, R = %g", field.c_str(), radii[k]);
      c.label = label;
      c.colour = io::series_colour(colour++);
      for (const auto& r : reports) {
        if (r.field == field) c.x.push_back(r.t), c.y.push_back(r.relative_circulation[k]);
      }
      if (!c.x.empty()) series.push_back(c);
    }
  }
  io::Panel panel;
  panel.title = "non-conservativity against t";
  panel.x_label = "t";
  panel.y_label = "asymmetry, relative circulation";
  panel.series = std::move(series);
  io::Figure figure;
  figure.panels.push_back(std::move(panel));
  return io::write_figure(file, figure);
}

// Two panels: the spectra (log10 of the mean singular values against their index k: the estimate is
// the index before the largest drop) and a histogram of the per-point estimates, one bar per estimator.
io::FigureFiles write_dimension_plot(const std::string& file, const diagnostics::DimensionEstimate& score,
                          const diagnostics::DimensionEstimate& flow, int64_t dim) {
  std::vector<io::Series> spectra, histograms;
  const auto add = [&](const std::string& name, const diagnostics::DimensionEstimate& e, std::size_t colour,
                       double offset) {
    if (!e.defined()) return;
    const torch::Tensor& estimates = e.estimates;
    const torch::Tensor& spectrum = e.spectrum;
    io::Series values, counts;
    values.label = name;
    values.colour = counts.colour = io::series_colour(colour);
    values.markers = true;
    for (int64_t k = 0; k < spectrum.size(0); ++k) {
      values.x.push_back(static_cast<double>(k + 1));
      values.y.push_back(std::log10(std::max(spectrum[k].item<double>(), 1e-300)));
    }
    counts.label = name;
    counts.line = false;
    counts.bar_width = 0.38;
    const auto histogram = torch::bincount(estimates, {}, dim + 1).to(torch::kFloat64) / estimates.size(0);
    const int64_t highest = estimates.max().item<int64_t>();
    for (int64_t k = 0; k <= std::min(std::max<int64_t>(highest + 1, 1), dim); ++k) {
      counts.x.push_back(static_cast<double>(k) + offset), counts.y.push_back(histogram[k].item<double>());
    }
    spectra.push_back(values);
    histograms.push_back(counts);
  };
  add("score spectrum", score, 0, -0.2);
  add("flow Jacobian", flow, 1, 0.2);
  io::Figure figure;
  figure.panels.resize(2);
  io::Panel& left = figure.panels[0];
  io::Panel& right = figure.panels[1];
  left.title = "mean singular values";
  left.x_label = "index k";
  left.y_label = "log10 s_k";
  left.series = std::move(spectra);
  right.title = "per-point dimension";
  right.x_label = "estimated dimension";
  right.y_label = "fraction of points";
  right.series = std::move(histograms);
  return io::write_figure(file, figure);
}

}  // namespace

int diagnose_command(const DiagnoseArgs& args) {
  train::require_flow(args.run_dir, "flowlab diagnose");
  std::vector<std::string> overrides = args.overrides;
  add_class_overrides(args.classes, args.class_mode, args.guidance, overrides);
  LoadedRun run = load_run(args.run_dir, overrides, args.checkpoint);
  train::Experiment& exp = *run.experiment;
  nn::Model& model = train::sampling_model(exp);
  model.eval();
  diagnostics::ReportOptions options;
  options.times = args.times;
  options.points = args.points;
  options.probes = args.probes;
  options.radii = args.radii;
  options.loop_points = args.loop_points;
  options.id_time = args.id_time;
  options.id_points = args.id_points;
  options.id_samples = args.id_samples;
  options.id_directions = args.id_directions;
  options.gauge_steps = args.gauge_steps;
  options.seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 11));
  const diagnostics::ReportInputs inputs = train::diagnosis_inputs(exp, model, options.seed);
  const diagnostics::Report report = diagnostics::diagnose(inputs, options);

  std::printf("run %s, step %lld, %lld points per time, d = %lld\n", exp.run_dir().c_str(),
              static_cast<long long>(run.step), static_cast<long long>(args.points), static_cast<long long>(report.dim));
  std::printf("%s", report.text().c_str());
  std::fflush(stdout);
  if (!args.json.empty()) {
    io::JsonObject json;
    json.add("run", exp.run_dir()).add("step", run.step).merge(report.json());
    io::write_text_atomically(args.json, json.str() + "\n");
  }
  if (!args.plot.empty()) {
    const io::FigureFiles files = write_plot(args.plot, report.results, args.radii);
    log_info("wrote " + files.png + " (with " + files.svg + " and its data " + files.json + ")");
    const std::filesystem::path p(args.plot);
    if (report.score_dimension.defined() || report.flow_dimension.defined()) {
      const std::string file = (p.parent_path() / (p.stem().string() + "_dimension.png")).string();
      const io::FigureFiles files = write_dimension_plot(file, report.score_dimension, report.flow_dimension, report.dim);
      log_info("wrote " + files.png + " (singular-value spectra and per-point dimension counts; .svg, .data.json beside)");
    }
    if (report.dim == 2) {
      // The velocity at the middle time over the density of x_t, with its curl as colour.
      const double t = args.times[args.times.size() / 2];
      auto gen = data::make_generator(options.seed + 5);
      const torch::Tensor points = inputs.path_points(torch::full({4000}, t), gen);
      char suffix[32];
      std::snprintf(suffix, sizeof suffix, "_field_t%.2f.png", t);
      const std::string file = (p.parent_path() / (p.stem().string() + suffix)).string();
      io::Figure figure;
      figure.panels.push_back(io::field_panel(
          [&](const torch::Tensor& y) { return inputs.velocity(y, torch::full({y.size(0)}, t, y.options())); },
          points.flatten(1)));
      figure.panels[0].title = format("velocity at t = %.2f over the density of x_t", t);
      figure.panel_width = 400 + 178, figure.panel_height = 400 + 84;
      io::write_figure(file, figure);
      log_info("wrote " + file + " (velocity arrows over the density of x_t, curl: blue < 0 < red)");
    }
  }
  return 0;
}

}  // namespace flowlab::cli
