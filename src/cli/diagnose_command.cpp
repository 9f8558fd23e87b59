// `flowlab diagnose`: how far a trained run's velocity (and score) are from gradient fields, at
// several times: the Jacobian asymmetry A = ||(J - J^T)/2||_F / ||J||_F over points x_t of the
// path, and the circulation around small circles through them.
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
#include "flowlab/diagnostics/asymmetry.h"
#include "flowlab/diagnostics/circulation.h"
#include "flowlab/diagnostics/flow_jacobian.h"
#include "flowlab/diagnostics/gauge.h"
#include "flowlab/diagnostics/intrinsic_dimension.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/field_plot.h"
#include "flowlab/io/json.h"
#include "flowlab/io/line_plot.h"
#include "flowlab/train/evaluation.h"
#include "run_overrides.h"

namespace flowlab::cli {
namespace {

// Full Jacobians (d backward passes per point) up to this dimension; the randomized estimator always.
constexpr int64_t kExactMaxDim = 64;
// RK4 steps of the variational equation for the flow-Jacobian dimension.
constexpr int64_t kFlowSteps = 200;

// "mode M, mean X; counts: k: n ..." of integer estimates in [0, dim].
std::string describe_estimates(const torch::Tensor& estimates, int64_t dim) {
  const auto counts = torch::bincount(estimates, {}, dim + 1);
  char head[96];
  std::snprintf(head, sizeof head, "mode %lld, mean %.3f; counts:", static_cast<long long>(counts.argmax().item<int64_t>()),
                estimates.to(torch::kFloat64).mean().item<double>());
  std::string text = head;
  for (int64_t k = 0; k <= dim; ++k) {
    if (counts[k].item<int64_t>() > 0) text += " " + std::to_string(k) + ": " + std::to_string(counts[k].item<int64_t>());
  }
  return text;
}

// The JSON object of integer estimates and a mean spectrum.
io::JsonObject estimates_json(const torch::Tensor& estimates, const torch::Tensor& spectrum, int64_t dim, double time) {
  io::JsonArray values, singular;
  for (int64_t i = 0; i < estimates.size(0); ++i) values.push(estimates[i].item<int64_t>());
  for (int64_t i = 0; i < spectrum.size(0); ++i) singular.push(spectrum[i].item<double>());
  return io::JsonObject()
      .add("time", time)
      .add("mean", estimates.to(torch::kFloat64).mean().item<double>())
      .add("mode", torch::bincount(estimates, {}, dim + 1).argmax().item<int64_t>())
      .add("estimates", values)
      .add("mean_singular_values", singular);
}

struct FieldReport {
  std::string field;  ///< velocity | score
  double t = 0.0;
  diagnostics::AsymmetryEstimate exact, randomized;
  bool has_exact = false;
  std::vector<double> relative_circulation;  ///< mean |I| / mean magnitude, per radius
  diagnostics::GaugeReport gauge;            ///< of the velocity, when the gauge decomposition was fitted
  bool has_gauge = false;
  double small_loop_error = -1.0;            ///< max |I - pi R^2 v^T (J - J^T) u| / mean magnitude at the smallest R
};

// Flat points [B, d] back in the data's shape [B, ...].
torch::Tensor as_samples(const torch::Tensor& flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> full{flat.size(0)};
  full.insert(full.end(), shape.begin(), shape.end());
  return flat.reshape(full);
}

// x_t at times t [n]: data x1, the source x0 (or x1 on a mirror path) and z.
// Data points; of class `label` for a conditional model diagnosed for one class (kNullClass:
// of every class, for the unconditional field or an unconditional model).
torch::Tensor data_points(train::Experiment& exp, int64_t n, at::Generator& gen, int64_t label) {
  if (exp.model->num_classes() == 0 || label == data::kNullClass) return exp.data->sample(n, gen).x;
  return data::sample_of_classes(*exp.data, torch::full({n}, label, torch::kLong), gen);
}

// Points x_t of the path at times t, between source draws and data points of class `label`.
torch::Tensor path_points(train::Experiment& exp, const torch::Tensor& t, at::Generator& gen, int64_t label) {
  const int64_t n = t.size(0);
  const torch::Tensor x1 = data_points(exp, n, gen, label).to(exp.device);
  const torch::Tensor x0 = exp.path->mirror() ? x1 : exp.source->sample(n, gen).x.to(exp.device);
  const torch::Tensor z = torch::randn(x1.sizes(), gen).to(exp.device);
  return exp.path->sample(x0, x1, t.to(x1.options()), z).x_t;
}

void write_plot(const std::string& file, const std::vector<FieldReport>& reports, const std::vector<double>& radii) {
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
  io::LinePlotOptions options;
  options.title = "non-conservativity against t";
  options.x_label = "t";
  options.y_label = "asymmetry, relative circulation";
  io::write_png(file, io::line_plot(series, options));
}

// Two panels: the spectra (log10 of the mean singular values against their index k: the estimate is
// the index before the largest drop) and a histogram of the per-point estimates, one bar per estimator.
void write_dimension_plot(const std::string& file, const torch::Tensor& score_estimates,
                          const torch::Tensor& score_spectrum, const torch::Tensor& flow_estimates,
                          const torch::Tensor& flow_spectrum, int64_t dim) {
  std::vector<io::Series> spectra, histograms;
  const auto add = [&](const std::string& name, const torch::Tensor& estimates, const torch::Tensor& spectrum,
                       std::size_t colour, double offset) {
    if (!estimates.defined()) return;
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
  add("score spectrum", score_estimates, score_spectrum, 0, -0.2);
  add("flow Jacobian", flow_estimates, flow_spectrum, 1, 0.2);
  io::LinePlotOptions left, right;
  left.title = "mean singular values";
  left.x_label = "index k";
  left.y_label = "log10 s_k";
  right.title = "per-point dimension";
  right.x_label = "estimated dimension";
  right.y_label = "fraction of points";
  io::write_png(file, io::side_by_side({io::line_plot(spectra, left), io::line_plot(histograms, right)}));
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
  const auto shape = exp.data->sample_shape();
  int64_t dim = 1;
  for (int64_t s : shape) dim *= s;
  if (dim < 2) throw ConfigError("diagnose: the data must have at least 2 dimensions");
  for (double t : args.times) {
    if (!(t > 0.0 && t < 1.0)) throw ConfigError("--times: each time must lie in (0, 1), got " + std::to_string(t));
  }
  for (double r : args.radii) {
    if (!(r > 0.0)) throw ConfigError("--radii: each radius must be > 0, got " + std::to_string(r));
  }
  if (args.points < 2 || args.probes < 1 || args.loop_points < 3 || args.id_points < 0 || args.id_samples < 0) {
    throw ConfigError("--points >= 2, --probes >= 1, --loop-points >= 3, --id-points >= 0 and --id-samples >= 0 are needed");
  }
  if (args.id_directions != 0 && (args.id_directions < 2 || args.id_directions > dim)) {
    throw ConfigError("--id-directions must lie in [2, D = " + std::to_string(dim) + "], got " +
                      std::to_string(args.id_directions));
  }
  const int64_t id_directions = args.id_directions ? args.id_directions : std::min(dim, kExactMaxDim);
  if (!(args.id_time > 0.0 && args.id_time < 1.0)) {
    throw ConfigError("--id-time must lie in (0, 1), got " + std::to_string(args.id_time));
  }

  const auto& kinds = model.predictions();
  // A conditional model is diagnosed for one class (or its unconditional field), with guidance;
  // the class goes with every batch the diagnostics evaluate, whatever its size.
  paths::ModelFn model_fn = train::model_function(model);
  int64_t label = data::kNullClass;
  if (model.num_classes() > 0) {
    const train::SampleOptions& s = exp.sample;
    if (s.class_mode == "none") {
      label = data::kNullClass;
    } else if (s.classes.size() == 1) {
      label = s.classes[0];
    } else {
      throw ConfigError("diagnose: the model is class-conditional; give the one class whose field is diagnosed "
                        "(--class K) or --classes none for the unconditional field");
    }
    model_fn = [guided = train::sampling_function(exp, model), label](const torch::Tensor& x, const torch::Tensor& t,
                                                                     const data::Condition&) {
      return guided(x, t, data::Condition{torch::full({x.size(0)}, label,
                                                      torch::TensorOptions().dtype(torch::kLong).device(x.device()))});
    };
  }
  std::vector<std::pair<std::string, solvers::Field>> fields{
      {"velocity", paths::velocity_field(model_fn, kinds, *exp.path)}};
  if (exp.path->why_no_score(kinds).empty()) {
    fields.emplace_back("score", paths::score_field(model_fn, kinds, *exp.path));
  }
  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 11));
  auto gen = data::make_generator(seed);
  // The conservative part grad phi of the velocity, fitted over all t (an energy network),
  // and grad psi, fitted the same way to the remainder: the fit's own error (see GaugeFields).
  solvers::Field gradient, remainder_gradient;
  // Exact divergences up to kExactMaxDim, Hutchinson's with --probes (rounded up to even) beyond.
  const int64_t gauge_probes = dim <= kExactMaxDim ? 0 : std::max<int64_t>(2, args.probes + args.probes % 2);
  if (args.gauge_steps > 0) {
    diagnostics::GaugeFitOptions options;
    options.steps = args.gauge_steps;
    const diagnostics::PathSampler sampler = [&](const torch::Tensor& t, at::Generator& g) {
      return path_points(exp, t, g, label);
    };
    const auto fit = [&](const solvers::Field& field, const std::string& what) {
      const auto started = std::chrono::steady_clock::now();
      auto network = diagnostics::fit_conservative_part(field, sampler, shape, options, gen, exp.device);
      log_info("diagnose: fitted " + what + " (" + std::to_string(args.gauge_steps) + " steps, " +
               std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()) +
               " s)");
      return solvers::Field([network](const torch::Tensor& x, const torch::Tensor& t) { return network->forward(x, t); });
    };
    gradient = fit(fields[0].second, "the conservative part grad phi of the velocity");
    const solvers::Field& velocity = fields[0].second;
    const solvers::Field remainder = [velocity, gradient](const torch::Tensor& x, const torch::Tensor& t) {
      return velocity(x, t) - gradient(x, t);
    };
    remainder_gradient = fit(remainder, "grad psi to the remainder b - grad phi, the fit's own error");
  }
  std::vector<FieldReport> reports;
  for (double t : args.times) {
    const torch::Tensor x = path_points(exp, torch::full({args.points}, t), gen, label).flatten(1);
    const torch::Tensor times = torch::full({args.points}, t, x.options());
    for (const auto& [name, field] : fields) {
      const diagnostics::PointField f = [&, &field = field](const torch::Tensor& y) {
        return field(as_samples(y, shape), times.slice(0, 0, y.size(0))).flatten(1);
      };
      FieldReport r;
      r.field = name;
      r.t = t;
      r.randomized = diagnostics::randomized_asymmetry(f, x, args.probes, gen);
      torch::Tensor jac;
      if (dim <= kExactMaxDim) {
        jac = diagnostics::jacobians(f, x);
        r.exact = diagnostics::asymmetry_of(jac);
        r.has_exact = true;
      }
      const auto [u, v] = diagnostics::random_planes(args.points, dim, gen, x.scalar_type());
      for (double radius : args.radii) {
        const diagnostics::LoopIntegral loop = diagnostics::loop_integral(f, x, u, v, radius, args.loop_points);
        r.relative_circulation.push_back(loop.circulation.abs().mean().item<double>() /
                                         std::max(loop.magnitude.mean().item<double>(), 1e-300));
        if (jac.defined() && radius == *std::min_element(args.radii.begin(), args.radii.end())) {
          const auto predicted = diagnostics::small_loop_circulation(jac, u, v, radius);
          r.small_loop_error = (loop.circulation - predicted).abs().max().item<double>() /
                               std::max(loop.magnitude.mean().item<double>(), 1e-300);
        }
      }
      if (gradient && name == "velocity" && fields.size() > 1) {
        r.gauge = diagnostics::gauge_report({fields[0].second, gradient, fields[1].second, remainder_gradient},
                                            as_samples(x, shape), t, gauge_probes, gen);
        r.has_gauge = true;
      }
      reports.push_back(r);
    }
  }
  // What the remainder costs: samples of the learned velocity and of grad phi alone, against the data.
  std::map<std::string, double> learned_scores, conservative_scores;
  if (gradient) {
    const uint64_t sample_seed = seed + 1;
    const train::GeneratedSamples learned = train::generate_samples(exp, model, exp.eval.n, sample_seed);
    learned_scores = train::score_samples(exp, learned, sample_seed + 1);
    auto source_gen = data::make_generator(sample_seed);
    // The sampler's start: the source, or the data itself on a mirror path (x0 = x1).
    const torch::Tensor x0 = (exp.path->mirror() ? exp.data->sample(exp.eval.n, source_gen).x
                                                 : exp.source->sample(exp.eval.n, source_gen).x)
                                 .to(exp.device);
    const auto solver = solvers::make_solver(exp.sample.solver, exp.sample.solver_options);
    train::GeneratedSamples conservative;
    {
      torch::NoGradGuard no_grad;
      conservative.x = solver->integrate(gradient, x0, 0.0, 1.0).x.cpu();
    }
    conservative.labels = learned.labels;  // compared with data of the same classes
    conservative_scores = train::score_samples(exp, conservative, sample_seed + 1);
  }

  // Score-spectrum intrinsic dimension near the data: centres beta(t) x1, spread by the noise level.
  torch::Tensor id_estimates, id_spectrum;
  const bool has_score = fields.size() > 1;
  if (has_score && args.id_points > 0) {
    const solvers::Field& score = fields[1].second;
    const torch::Tensor t_id = torch::full({1}, args.id_time, torch::kFloat64);
    const double beta = exp.path->at(t_id).beta.item<double>();
    const double sigma = paths::noise_level(*exp.path, t_id).item<double>();
    if (!(sigma > 0)) throw ConfigError("--id-time: the path has no noise at t = " + std::to_string(args.id_time));
    const torch::Tensor x1 = data_points(exp, args.id_points, gen, label).to(exp.device).flatten(1);
    const int64_t samples = args.id_samples > 0 ? args.id_samples : 4 * dim;
    const diagnostics::PointField f = [&](const torch::Tensor& y) {
      return score(as_samples(y, shape), torch::full({y.size(0)}, args.id_time, y.options())).flatten(1);
    };
    const diagnostics::SpectrumDimension r =
        diagnostics::score_spectrum_dimension(f, beta * x1, sigma, samples, gen);
    id_estimates = r.dimension;
    id_spectrum = r.singular_values.mean(0);
  }

  // Flow-Jacobian intrinsic dimension: Y = d x_t / d x_0 along the sampling ODE up to --id-time.
  torch::Tensor flow_estimates, flow_spectrum;
  if (args.id_points > 0) {
    auto source_gen = data::make_generator(seed + 3);
    const torch::Tensor x0 = exp.source->sample(args.id_points, source_gen).x.to(exp.device).flatten(1);
    const solvers::Field& velocity = fields[0].second;
    const solvers::Field flat = [&](const torch::Tensor& y, const torch::Tensor& t) {
      return velocity(as_samples(y, shape), t).flatten(1);
    };
    const diagnostics::FlowJacobian f =
        diagnostics::flow_jacobian(flat, x0, args.id_time, kFlowSteps, id_directions, &source_gen);
    flow_estimates = f.dimension;
    flow_spectrum = f.singular_values.mean(0);
  }

  std::printf("run %s, step %lld, %lld points per time, d = %lld\n", exp.run_dir().c_str(),
              static_cast<long long>(run.step), static_cast<long long>(args.points), static_cast<long long>(dim));
  std::printf("%-9s %6s %22s %24s %10s", "field", "t", "A exact (s.e.)", "A randomized (s.e.)", "A pooled");
  for (double radius : args.radii) std::printf("   circ R=%-6g", radius);
  std::printf("\n");
  for (const auto& r : reports) {
    char exact[40] = "-";
    if (r.has_exact) std::snprintf(exact, sizeof exact, "%.5f (%.1e)", r.exact.mean, r.exact.se);
    std::printf("%-9s %6.3f %22s %13.5f (%.1e) %10.5f", r.field.c_str(), r.t, exact, r.randomized.mean,
                r.randomized.se, r.has_exact ? r.exact.pooled : r.randomized.pooled);
    for (double c : r.relative_circulation) std::printf(" %15.3e", c);
    std::printf("\n");
  }
  std::printf("A = ||(J - J^T)/2||_F / ||J||_F at points x_t of the path (0: a gradient field, 1: a rotation);\n"
              "circ = mean |loop integral| / mean integral of |field| around circles of radius R in random planes.\n");
  for (const auto& r : reports) {
    if (r.has_gauge) {
      std::printf("gauge t = %.3f: remainder share E|r|^2/E|b|^2 = %.4e, of which the fit's error %.4e, refined "
                  "%.4e; gauge residual rms(div r + r.s) = %.4e (%.3f of the velocity's own%s)\n",
                  r.t, r.gauge.remainder_share, r.gauge.fit_error_share, r.gauge.refined_share,
                  r.gauge.gauge_residual_rms, r.gauge.gauge_residual, r.gauge.probes ? ", Hutchinson divergences" : "");
    }
  }
  for (const auto& [metric, value] : learned_scores) {
    std::printf("samples against data, %s: learned velocity %.5f, its conservative part grad phi %.5f\n",
                metric.c_str(), value, conservative_scores[metric]);
  }
  if (id_estimates.defined()) {
    std::printf("\nintrinsic dimension, score spectrum at t = %g (%lld points): %s\n", args.id_time,
                static_cast<long long>(args.id_points), describe_estimates(id_estimates, dim).c_str());
  } else if (!has_score) {
    std::printf("\nno score from this model on this path: no score-spectrum dimension\n");
  }
  if (flow_estimates.defined()) {
    std::printf("intrinsic dimension, flow Jacobian d x_t/d x_0 at t = %g (%lld points, %s): %s\n", args.id_time,
                static_cast<long long>(args.id_points),
                id_directions == dim ? "whole Jacobian" : (std::to_string(id_directions) + " random directions").c_str(),
                describe_estimates(flow_estimates, dim).c_str());
  }
  std::fflush(stdout);

  if (!args.json.empty()) {
    io::JsonArray results;
    for (const auto& r : reports) {
      io::JsonObject o;
      o.add("field", r.field).add("t", r.t);
      if (r.has_exact) {
        o.add("asymmetry", r.exact.mean)
            .add("asymmetry_se", r.exact.se)
            .add("asymmetry_pooled", r.exact.pooled)
            .add("small_loop_error", r.small_loop_error);
      }
      if (r.has_gauge) {
        o.add("remainder_share", r.gauge.remainder_share)
            .add("remainder_fit_error", r.gauge.fit_error_share)
            .add("remainder_refined", r.gauge.refined_share)
            .add("gauge_divergence_probes", r.gauge.probes)
            .add("gauge_residual", r.gauge.gauge_residual)
            .add("gauge_residual_rms", r.gauge.gauge_residual_rms);
      }
      o.add("asymmetry_randomized", r.randomized.mean)
          .add("asymmetry_randomized_se", r.randomized.se)
          .add("asymmetry_randomized_pooled", r.randomized.pooled)
          .add("circulation", io::JsonArray(r.relative_circulation));
      results.push(o);
    }
    io::JsonObject json;
    json.add("run", exp.run_dir())
        .add("step", run.step)
        .add("points", args.points)
        .add("dim", dim)
        .add("probes", args.probes)
        .add("radii", io::JsonArray(args.radii))
        .add("results", results);
    for (const auto& [metric, value] : learned_scores) {
      json.add("learned_" + metric, value).add("conservative_" + metric, conservative_scores[metric]);
    }
    if (id_estimates.defined()) json.add("intrinsic_dimension", estimates_json(id_estimates, id_spectrum, dim, args.id_time));
    if (flow_estimates.defined()) {
      json.add("intrinsic_dimension_flow", estimates_json(flow_estimates, flow_spectrum, dim, args.id_time));
    }
    io::write_text_atomically(args.json, json.str() + "\n");
  }
  if (!args.plot.empty()) {
    write_plot(args.plot, reports, args.radii);
    log_info("wrote " + args.plot);
    if (id_estimates.defined() || flow_estimates.defined()) {
      const std::filesystem::path p(args.plot);
      const std::string file = (p.parent_path() / (p.stem().string() + "_dimension.png")).string();
      write_dimension_plot(file, id_estimates, id_spectrum, flow_estimates, flow_spectrum, dim);
      log_info("wrote " + file + " (singular-value spectra and per-point dimension counts)");
    }
    if (dim == 2) {
      // The velocity at the middle time over the density of x_t, with its curl as colour.
      const double t = args.times[args.times.size() / 2];
      const torch::Tensor points = path_points(exp, torch::full({4000}, t), gen, label);
      const solvers::Field& velocity = fields[0].second;
      const std::filesystem::path p(args.plot);
      char suffix[32];
      std::snprintf(suffix, sizeof suffix, "_field_t%.2f.png", t);
      const std::string file = (p.parent_path() / (p.stem().string() + suffix)).string();
      io::write_png(file, io::field_image(
                              [&](const torch::Tensor& y) {
                                return velocity(as_samples(y, shape), torch::full({y.size(0)}, t, y.options()));
                              },
                              points.flatten(1)));
      log_info("wrote " + file + " (velocity arrows over the density of x_t, curl: blue < 0 < red)");
    }
  }
  return 0;
}

}  // namespace flowlab::cli
