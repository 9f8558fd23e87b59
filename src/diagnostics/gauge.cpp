#include "flowlab/diagnostics/gauge.h"

#include <torch/torch.h>

#include <cmath>

#include "flowlab/diagnostics/jacobian.h"

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

torch::Tensor divergence(const PointField& field, const torch::Tensor& x) {
  return jacobians(field, x).diagonal(0, 1, 2).sum(1).to(torch::kFloat64);
}

double rms(const torch::Tensor& v) { return std::sqrt(v.pow(2).mean().item<double>()); }

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
  torch::optim::Adam adam(potential->parameters(), torch::optim::AdamOptions(options.lr));
  for (int64_t step = 0; step < options.steps; ++step) {
    const double lr = 0.5 * options.lr * (1.0 + std::cos(M_PI * static_cast<double>(step) / options.steps));
    for (auto& group : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    const auto t = torch::rand({options.batch}, gen).to(device);
    const auto x = sample_path(t, gen).to(device);
    torch::Tensor target;
    {
      torch::NoGradGuard no_grad;
      target = field(x, t).detach();
    }
    const auto loss = (potential->forward(x, t) - target).pow(2).flatten(1).sum(1).mean();
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  potential->eval();
  return potential;
}

GaugeReport gauge_report(const solvers::Field& field, const solvers::Field& potential_gradient,
                         const solvers::Field& score, const torch::Tensor& x, double t) {
  const std::vector<int64_t> shape(x.sizes().begin() + 1, x.sizes().end());
  const auto flat = x.flatten(1);
  const PointField f = flat_field(field, shape, t), g = flat_field(potential_gradient, shape, t),
                   s = flat_field(score, shape, t);
  torch::Tensor fx, gx, sx;
  {
    torch::NoGradGuard no_grad;
    fx = f(flat).to(torch::kFloat64), gx = g(flat).to(torch::kFloat64), sx = s(flat).to(torch::kFloat64);
  }
  const auto r = fx - gx;
  const auto div_f = divergence(f, flat), div_g = divergence(g, flat);
  GaugeReport report;
  report.remainder_share = r.pow(2).sum().item<double>() / std::max(fx.pow(2).sum().item<double>(), 1e-300);
  const auto gauge_r = (div_f - div_g) + (r * sx).sum(1);
  const auto gauge_f = div_f + (fx * sx).sum(1);
  report.gauge_residual_rms = rms(gauge_r);
  report.gauge_residual = report.gauge_residual_rms / std::max(rms(gauge_f), 1e-300);
  return report;
}

}  // namespace flowlab::diagnostics
