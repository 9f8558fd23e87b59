#include "flowlab/diagnostics/report.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/diagnostics/circulation.h"
#include "flowlab/diagnostics/flow_jacobian.h"
#include "flowlab/diagnostics/intrinsic_dimension.h"
#include "flowlab/diagnostics/jacobian.h"

namespace flowlab::diagnostics {
namespace {

// Flat points [B, d] back in the data's shape [B, ...].
torch::Tensor as_samples(const torch::Tensor& flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> full{flat.size(0)};
  full.insert(full.end(), shape.begin(), shape.end());
  return flat.reshape(full);
}

std::string text_number(const char* format, double value) {
  char out[64];
  std::snprintf(out, sizeof out, format, value);
  return out;
}

// "mode M, mean X; counts: k: n ..." of integer estimates in [0, dim].
std::string describe(const DimensionEstimate& e, int64_t dim) {
  const auto counts = torch::bincount(e.estimates, {}, dim + 1);
  std::string text = "mode " + std::to_string(e.mode(dim)) + ", mean " + text_number("%.3f", e.mean()) + "; counts:";
  for (int64_t k = 0; k <= dim; ++k) {
    if (counts[k].item<int64_t>() > 0) text += " " + std::to_string(k) + ": " + std::to_string(counts[k].item<int64_t>());
  }
  return text;
}

}  // namespace

void ReportOptions::validate(int64_t dim) const {
  if (dim < 2) throw ConfigError("diagnose: the data must have at least 2 dimensions");
  for (double t : times) {
    if (!(t > 0.0 && t < 1.0)) throw ConfigError("times: each time must lie in (0, 1), got " + std::to_string(t));
  }
  if (times.empty() || radii.empty()) throw ConfigError("times and radii: at least one value each is needed");
  for (double r : radii) {
    if (!(r > 0.0)) throw ConfigError("radii: each radius must be > 0, got " + std::to_string(r));
  }
  if (points < 2 || probes < 1 || loop_points < 3 || id_points < 0 || id_samples < 0 || gauge_steps < 0 ||
      flow_steps < 1) {
    throw ConfigError("points >= 2, probes >= 1, loop points >= 3, id points >= 0, id samples >= 0 and gauge steps "
                      ">= 0 are needed");
  }
  if (id_directions != 0 && (id_directions < 2 || id_directions > dim)) {
    throw ConfigError("id directions must lie in [2, D = " + std::to_string(dim) + "], got " +
                      std::to_string(id_directions));
  }
  if (!(id_time > 0.0 && id_time < 1.0)) throw ConfigError("id time must lie in (0, 1), got " + std::to_string(id_time));
}

int64_t DimensionEstimate::mode(int64_t dim) const {
  return torch::bincount(estimates, {}, dim + 1).argmax().item<int64_t>();
}

double DimensionEstimate::mean() const { return estimates.to(torch::kFloat64).mean().item<double>(); }

io::JsonObject DimensionEstimate::json(int64_t dim, double time) const {
  io::JsonArray values, singular;
  for (int64_t i = 0; i < estimates.size(0); ++i) values.push(estimates[i].item<int64_t>());
  for (int64_t i = 0; i < spectrum.size(0); ++i) singular.push(spectrum[i].item<double>());
  return io::JsonObject()
      .add("time", time)
      .add("mean", mean())
      .add("mode", mode(dim))
      .add("estimates", values)
      .add("mean_singular_values", singular);
}

Report diagnose(const ReportInputs& in, const ReportOptions& options) {
  Report report;
  report.options = options;
  report.dim = 1;
  for (int64_t s : in.sample_shape) report.dim *= s;
  const int64_t dim = report.dim;
  options.validate(dim);
  report.has_score = static_cast<bool>(in.score);
  const auto& shape = in.sample_shape;
  std::vector<std::pair<std::string, solvers::Field>> fields{{"velocity", in.velocity}};
  if (report.has_score) fields.emplace_back("score", in.score);

  at::Generator gen = at::detail::createCPUGenerator(options.seed);
  // The conservative part grad phi of the velocity, fitted over all t (an energy network),
  // and grad psi, fitted the same way to the remainder: the fit's own error (see GaugeFields).
  solvers::Field gradient, remainder_gradient;
  // Exact divergences up to kExactMaxDim, Hutchinson's with probes (rounded up to even) beyond.
  const int64_t gauge_probes = dim <= kExactMaxDim ? 0 : std::max<int64_t>(2, options.probes + options.probes % 2);
  if (options.gauge_steps > 0) {
    GaugeFitOptions fit_options;
    fit_options.steps = options.gauge_steps;
    const auto fit = [&](const solvers::Field& field, const std::string& what) {
      const auto started = std::chrono::steady_clock::now();
      auto network = fit_conservative_part(field, in.path_points, shape, fit_options, gen, in.device);
      log_info("diagnose: fitted " + what + " (" + std::to_string(options.gauge_steps) + " steps, " +
               text_number("%.1f", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()) +
               " s)");
      return solvers::Field([network](const torch::Tensor& x, const torch::Tensor& t) { return network->forward(x, t); });
    };
    gradient = fit(in.velocity, "the conservative part grad phi of the velocity");
    const solvers::Field remainder = [velocity = in.velocity, gradient](const torch::Tensor& x, const torch::Tensor& t) {
      return velocity(x, t) - gradient(x, t);
    };
    remainder_gradient = fit(remainder, "grad psi to the remainder b - grad phi, the fit's own error");
  }
  const double smallest_radius = *std::min_element(options.radii.begin(), options.radii.end());
  for (double t : options.times) {
    const torch::Tensor x = in.path_points(torch::full({options.points}, t), gen).flatten(1);
    const torch::Tensor times = torch::full({options.points}, t, x.options());
    for (const auto& [name, field] : fields) {
      const PointField f = [&, &field = field](const torch::Tensor& y) {
        return field(as_samples(y, shape), times.slice(0, 0, y.size(0))).flatten(1);
      };
      FieldDiagnosis r;
      r.field = name;
      r.t = t;
      r.randomized = randomized_asymmetry(f, x, options.probes, gen);
      torch::Tensor jac;
      if (dim <= kExactMaxDim) {
        jac = jacobians(f, x);
        r.exact = asymmetry_of(jac);
        r.has_exact = true;
      }
      const auto [u, v] = random_planes(options.points, dim, gen, x.scalar_type());
      for (double radius : options.radii) {
        const LoopIntegral loop = loop_integral(f, x, u, v, radius, options.loop_points);
        const double magnitude = std::max(loop.magnitude.mean().item<double>(), 1e-300);
        r.relative_circulation.push_back(loop.circulation.abs().mean().item<double>() / magnitude);
        if (jac.defined() && radius == smallest_radius) {
          const auto predicted = small_loop_circulation(jac, u, v, radius);
          r.small_loop_error = (loop.circulation - predicted).abs().max().item<double>() / magnitude;
        }
      }
      if (gradient && name == "velocity" && report.has_score) {
        r.gauge = gauge_report({in.velocity, gradient, in.score, remainder_gradient}, as_samples(x, shape), t,
                               gauge_probes, gen);
        r.has_gauge = true;
      }
      report.results.push_back(r);
    }
  }
  // What the remainder costs: samples of the learned velocity and of grad phi alone, against the data.
  if (gradient && in.compare_samples) {
    std::tie(report.learned_scores, report.conservative_scores) = in.compare_samples(gradient);
  }
  // Score-spectrum intrinsic dimension near the data: centres beta(t) x1, spread by the noise level.
  if (report.has_score && options.id_points > 0) {
    const auto [beta, sigma] = in.signal_and_noise(options.id_time);
    if (!(sigma > 0)) throw ConfigError("id time: the path has no noise at t = " + std::to_string(options.id_time));
    const torch::Tensor x1 = in.data_points(options.id_points, gen).to(in.device).flatten(1);
    const int64_t samples = options.id_samples > 0 ? options.id_samples : 4 * dim;
    const PointField f = [&](const torch::Tensor& y) {
      return in.score(as_samples(y, shape), torch::full({y.size(0)}, options.id_time, y.options())).flatten(1);
    };
    const SpectrumDimension r = score_spectrum_dimension(f, beta * x1, sigma, samples, gen);
    report.score_dimension.estimates = r.dimension;
    report.score_dimension.spectrum = r.singular_values.mean(0);
    report.score_dimension.directions = dim;
  }
  // Flow-Jacobian intrinsic dimension: Y = d x_t / d x_0 along the sampling ODE up to id_time.
  if (options.id_points > 0) {
    at::Generator source_gen = at::detail::createCPUGenerator(options.seed + 3);
    const torch::Tensor x0 = in.source_points(options.id_points, source_gen).to(in.device).flatten(1);
    const solvers::Field flat = [&](const torch::Tensor& y, const torch::Tensor& t) {
      return in.velocity(as_samples(y, shape), t).flatten(1);
    };
    const int64_t directions = options.id_directions ? options.id_directions : std::min(dim, kExactMaxDim);
    const FlowJacobian f = flow_jacobian(flat, x0, options.id_time, options.flow_steps, directions, &source_gen);
    report.flow_dimension.estimates = f.dimension;
    report.flow_dimension.spectrum = f.singular_values.mean(0);
    report.flow_dimension.directions = directions;
  }
  return report;
}

io::JsonObject Report::json() const {
  io::JsonArray rows;
  for (const auto& r : results) {
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
    rows.push(o);
  }
  io::JsonObject json;
  json.add("points", options.points)
      .add("dim", dim)
      .add("probes", options.probes)
      .add("radii", io::JsonArray(options.radii))
      .add("results", rows);
  for (const auto& [metric, value] : learned_scores) {
    json.add("learned_" + metric, value).add("conservative_" + metric, conservative_scores.at(metric));
  }
  if (score_dimension.defined()) json.add("intrinsic_dimension", score_dimension.json(dim, options.id_time));
  if (flow_dimension.defined()) json.add("intrinsic_dimension_flow", flow_dimension.json(dim, options.id_time));
  return json;
}

std::string Report::text() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-9s %6s %22s %24s %10s", "field", "t", "A exact (s.e.)", "A randomized (s.e.)",
                "A pooled");
  out += line;
  for (double radius : options.radii) {
    std::snprintf(line, sizeof line, "   circ R=%-6g", radius);
    out += line;
  }
  out += "\n";
  for (const auto& r : results) {
    char exact[40] = "-";
    if (r.has_exact) std::snprintf(exact, sizeof exact, "%.5f (%.1e)", r.exact.mean, r.exact.se);
    std::snprintf(line, sizeof line, "%-9s %6.3f %22s %13.5f (%.1e) %10.5f", r.field.c_str(), r.t, exact,
                  r.randomized.mean, r.randomized.se, r.has_exact ? r.exact.pooled : r.randomized.pooled);
    out += line;
    for (double c : r.relative_circulation) out += text_number(" %15.3e", c);
    out += "\n";
  }
  out += "A = ||(J - J^T)/2||_F / ||J||_F at points x_t of the path (0: a gradient field, 1: a rotation);\n"
         "circ = mean |loop integral| / mean integral of |field| around circles of radius R in random planes.\n";
  for (const auto& r : results) {
    if (!r.has_gauge) continue;
    std::snprintf(line, sizeof line,
                  "gauge t = %.3f: remainder share E|r|^2/E|b|^2 = %.4e, of which the fit's error %.4e, refined "
                  "%.4e; gauge residual rms(div r + r.s) = %.4e (%.3f of the velocity's own%s)\n",
                  r.t, r.gauge.remainder_share, r.gauge.fit_error_share, r.gauge.refined_share,
                  r.gauge.gauge_residual_rms, r.gauge.gauge_residual, r.gauge.probes ? ", Hutchinson divergences" : "");
    out += line;
  }
  for (const auto& [metric, value] : learned_scores) {
    std::snprintf(line, sizeof line, "samples against data, %s: learned velocity %.5f, its conservative part grad phi %.5f\n",
                  metric.c_str(), value, conservative_scores.at(metric));
    out += line;
  }
  if (score_dimension.defined()) {
    out += "\nintrinsic dimension, score spectrum at t = " + text_number("%g", options.id_time) + " (" +
           std::to_string(options.id_points) + " points): " + describe(score_dimension, dim) + "\n";
  } else if (!has_score) {
    out += "\nno score from this model on this path: no score-spectrum dimension\n";
  }
  if (flow_dimension.defined()) {
    out += "intrinsic dimension, flow Jacobian d x_t/d x_0 at t = " + text_number("%g", options.id_time) + " (" +
           std::to_string(options.id_points) + " points, " +
           (flow_dimension.directions == dim ? std::string("whole Jacobian")
                                             : std::to_string(flow_dimension.directions) + " random directions") +
           "): " + describe(flow_dimension, dim) + "\n";
  }
  return out;
}

}  // namespace flowlab::diagnostics
