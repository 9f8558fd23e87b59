#include "flowlab/paths/kinetic_energy.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/solvers/gauss_legendre.h"

namespace flowlab::paths {
namespace {

constexpr int kNodesPerPanel = 8;

// Panel edges on [0, t_max]: geometric towards both ends (where paths are least smooth), uniform between.
std::vector<double> panel_edges(double t_max) {
  std::vector<double> edges{0.0};
  for (int e = -9; e <= -3; ++e) edges.push_back(std::pow(10.0, e));
  for (int k = 1; k < 100; ++k) edges.push_back(0.01 * k);
  for (int e = -3; e >= -12; --e) edges.push_back(1.0 - std::pow(10.0, e));
  std::vector<double> kept;
  for (double e : edges) {
    if (e < t_max) kept.push_back(e);
  }
  kept.push_back(t_max);
  return kept;
}

}  // namespace

torch::Tensor kinetic_energy_integrand(const torch::Tensor& a, const torch::Tensor& m, const torch::Tensor& d_a,
                                       const torch::Tensor& d_m, const DataSeparation& separation) {
  const double root = std::sqrt(separation.second_moment());
  const auto a_n = root * a, d_a_n = root * d_a;  // the normalised data's coefficients
  const auto theta = torch::atan2(a_n, m);
  const auto cross = d_a_n * m - a_n * d_m;
  return d_a_n.pow(2) + d_m.pow(2) - cross.pow(2) * separation.error_ratio(theta) / (m.pow(2) + a_n.pow(2));
}

PathEnergy path_kinetic_energy(const Path& path, const DataSeparation& separation, double t_max) {
  if (!path.gaussian_source() || path.mirror()) {
    throw Error("kinetic energy by the lambda formula needs a Gaussian-source path (x0 ~ N(0, I)); this path "
                "has another source");
  }
  TORCH_CHECK(t_max > 0 && t_max <= 1, "kinetic energy: t_max must lie in (0, 1], got ", t_max);
  const auto [nodes, weights] = solvers::gauss_legendre(kNodesPerPanel);
  const std::vector<double> edges = panel_edges(t_max);
  std::vector<double> t, w;
  for (std::size_t p = 0; p + 1 < edges.size(); ++p) {
    const double half = 0.5 * (edges[p + 1] - edges[p]), mid = 0.5 * (edges[p + 1] + edges[p]);
    for (int i = 0; i < kNodesPerPanel; ++i) {
      t.push_back(mid + half * nodes[i]);
      w.push_back(half * weights[i]);
    }
  }
  const auto times = torch::tensor(t, torch::kFloat64), quadrature = torch::tensor(w, torch::kFloat64);
  const Coefficients c = path.at(times);
  // m = sqrt(alpha^2 + gamma^2) and m' = (alpha alpha' + gamma gamma') / m; the nodes avoid t = 1, where m = 0.
  const auto m = torch::sqrt(c.alpha.pow(2) + c.gamma.pow(2));
  const auto d_m = (c.alpha * c.d_alpha + c.gamma_d_gamma) / m;
  const auto integrand = kinetic_energy_integrand(c.beta, m, c.d_beta, d_m, separation);
  const auto conditional = separation.second_moment() * c.d_beta.pow(2) + d_m.pow(2);
  PathEnergy e;
  e.energy = (integrand * quadrature).sum().item<double>();
  e.conditional = (conditional * quadrature).sum().item<double>();
  if (!std::isfinite(e.energy)) throw Error("kinetic energy: the path's coefficients are not finite on [0, t_max]");
  return e;
}

EnergyEstimate field_kinetic_energy(const solvers::Field& field, const Path& path, const torch::Tensor& data,
                                    at::Generator& gen, int64_t batch, double t_max) {
  const ConditionalField unconditional = [&field](const torch::Tensor& x, const torch::Tensor& t,
                                                  const data::Condition&) { return field(x, t); };
  return field_kinetic_energy(unconditional, {}, path, data, gen, batch, t_max);
}

EnergyEstimate field_kinetic_energy(const ConditionalField& field, const data::Condition& condition, const Path& path,
                                    const torch::Tensor& data, at::Generator& gen, int64_t batch, double t_max) {
  TORCH_CHECK(data.dim() >= 2 && data.size(0) >= 2, "kinetic energy: data [N >= 2, ...] expected, got ",
              data.sizes());
  if (!path.gaussian_source() || path.mirror()) {
    throw Error("kinetic energy of a field: x_t is drawn with x0 ~ N(0, I), which needs a Gaussian-source path");
  }
  const int64_t n = data.size(0);
  const auto options = data.options();
  // One time per point, one in each of n strata of [0, t_max], in random order.
  const auto strata = torch::randperm(n, gen, torch::kLong).to(torch::kFloat64);
  const auto t_all = ((strata + torch::rand({n}, gen, torch::kFloat64)) / static_cast<double>(n) * t_max);
  const auto x0_all = torch::randn(data.sizes(), gen, torch::kFloat32);
  const auto z_all = torch::randn(data.sizes(), gen, torch::kFloat32);
  std::vector<torch::Tensor> squares;
  torch::NoGradGuard no_grad;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t end = std::min(n, start + batch);
    const auto x1 = data.slice(0, start, end);
    const auto t = t_all.slice(0, start, end).to(options);
    const auto x0 = x0_all.slice(0, start, end).to(options);
    const auto z = z_all.slice(0, start, end).to(options);
    const auto x_t = path.sample(x0, x1, t, z).x_t;
    const auto u = field(x_t, t, condition.slice(start, end));
    squares.push_back(u.reshape({end - start, -1}).to(torch::kFloat64).pow(2).mean(1).cpu());
  }
  const auto per_point = torch::cat(squares) * t_max;
  EnergyEstimate e;
  e.value = per_point.mean().item<double>();
  e.se = per_point.std().item<double>() / std::sqrt(static_cast<double>(n));
  return e;
}

}  // namespace flowlab::paths
