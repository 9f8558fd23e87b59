#include "flowlab/diagnostics/gauge.h"

#include <torch/torch.h>

#include <cmath>

#include "flowlab/diagnostics/jacobian.h"
#include "flowlab/train/fit.h"

namespace flowlab::diagnostics {
namespace {

// A sample-shaped field at the fixed time t as a field on flat points [B, d].
PointField flat_field(const solvers::Field& field, const std::vector<int64_t>& shape, double t) {
  return [field, shape, t](const torch::Tensor& y) {
    std::vector<int64_t> full{y.size(0)};
    full.insert(full.end(), shape.begin(), shape.end());
    return field(y.reshape(full), torch::full({y.size(0)}, t, y.options())).flatten(1);
  };
}

double rms(const torch::Tensor& v) { return std::sqrt(v.pow(2).mean().item<double>()); }

// sqrt of the mean over points of e^2, for divergence estimates [k, B] (k = 1: exact) of a field whose
// other term of e = div + term is `term` [B]: with two independent halves of the probes, the mean of
// e_first * e_second is unbiased for the mean of e^2.
double residual_rms(const torch::Tensor& divergence, const torch::Tensor& term) {
  if (divergence.size(0) == 1) return rms(divergence[0] + term);
  const int64_t half = divergence.size(0) / 2;
  const auto first = divergence.slice(0, 0, half).mean(0) + term;
  const auto second = divergence.slice(0, half).mean(0) + term;
  return std::sqrt(std::max((first * second).mean().item<double>(), 0.0));
}

}  // namespace

std::shared_ptr<nn::EnergyMlp> fit_conservative_part(const solvers::Field& field, const PathSampler& sample_path,
                                                     const std::vector<int64_t>& sample_shape,
                                                     const GaugeFitOptions& options, at::Generator& gen,
                                                     torch::Device device) {
  TORCH_CHECK(options.steps >= 1 && options.batch >= 1 && options.lr > 0, "gauge fit: steps, batch and lr must be > 0");
  nn::MlpOptions mlp;
  mlp.hidden = options.hidden;
  mlp.activation = "silu";  // smooth: its gradient field has a Hessian
  auto potential = std::make_shared<nn::EnergyMlp>(mlp, sample_shape, 1);
  potential->to(device);
  train::FitOptions fit;
  fit.steps = options.steps;
  fit.lr = options.lr;
  train::fit_module(*potential, [&](int64_t) {
    const auto t = torch::rand({options.batch}, gen).to(device);
    const auto x = sample_path(t, gen).to(device);
    torch::Tensor target;
    {
      torch::NoGradGuard no_grad;
      target = field(x, t).detach();
    }
    return (potential->forward(x, t) - target).pow(2).flatten(1).sum(1).mean();
  }, fit);
  potential->eval();
  return potential;
}

GaugeReport gauge_report(const GaugeFields& fields, const torch::Tensor& x, double t, int64_t probes,
                         at::Generator& gen) {
  TORCH_CHECK(probes == 0 || (probes >= 2 && probes % 2 == 0),
              "gauge report: probes must be 0 (exact divergences) or even and >= 2, got ", probes);
  const std::vector<int64_t> shape(x.sizes().begin() + 1, x.sizes().end());
  const auto flat = x.flatten(1);
  const PointField f = flat_field(fields.field, shape, t), g = flat_field(fields.potential_gradient, shape, t),
                   s = flat_field(fields.score, shape, t);
  torch::Tensor fx, gx, sx;
  {
    torch::NoGradGuard no_grad;
    fx = f(flat).to(torch::kFloat64), gx = g(flat).to(torch::kFloat64), sx = s(flat).to(torch::kFloat64);
  }
  const auto r = fx - gx;
  // Divergences [k, B] of f and of grad phi, with the same probes (their difference is div r).
  torch::Tensor div_f, div_g;
  if (probes == 0) {
    div_f = divergences(f, flat).to(torch::kFloat64).unsqueeze(0);
    div_g = divergences(g, flat).to(torch::kFloat64).unsqueeze(0);
  } else {
    const auto z = (2 * torch::randint(2, {probes, flat.size(0), flat.size(1)}, gen, torch::kLong) - 1)
                       .to(flat.options());
    div_f = divergence_estimates(f, flat, z).to(torch::kFloat64);
    div_g = divergence_estimates(g, flat, z).to(torch::kFloat64);
  }
  GaugeReport report;
  report.probes = probes;
  const double field_energy = std::max(fx.pow(2).sum().item<double>(), 1e-300);
  report.remainder_share = r.pow(2).sum().item<double>() / field_energy;
  if (fields.remainder_gradient) {
    const PointField h = flat_field(fields.remainder_gradient, shape, t);
    torch::NoGradGuard no_grad;
    const torch::Tensor hx = h(flat).to(torch::kFloat64);
    report.fit_error_share = hx.pow(2).sum().item<double>() / field_energy;
    report.refined_share = (r - hx).pow(2).sum().item<double>() / field_energy;
  }
  report.gauge_residual_rms = residual_rms(div_f - div_g, (r * sx).sum(1));
  report.gauge_residual = report.gauge_residual_rms / std::max(residual_rms(div_f, (fx * sx).sum(1)), 1e-300);
  return report;
}

}  // namespace flowlab::diagnostics
