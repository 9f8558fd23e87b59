#include "flowlab/diagnostics/asymmetry.h"

#include <torch/torch.h>

#include <cmath>

namespace flowlab::diagnostics {
namespace {

std::pair<double, double> mean_and_se(const torch::Tensor& v) {
  const int64_t n = v.size(0);
  const double mean = v.mean().item<double>();
  const double se = n > 1 ? v.std().item<double>() / std::sqrt(static_cast<double>(n)) : 0.0;
  return {mean, se};
}

// Fills everything from per-point squared norms of the antisymmetric part and of J [B].
AsymmetryEstimate summarise(const torch::Tensor& antisymmetric_sq, const torch::Tensor& jacobian_sq) {
  AsymmetryEstimate e;
  e.per_point = torch::sqrt(antisymmetric_sq / jacobian_sq.clamp_min(1e-300));
  std::tie(e.mean, e.se) = mean_and_se(e.per_point);
  std::tie(e.antisymmetric_sq, e.antisymmetric_sq_se) = mean_and_se(antisymmetric_sq);
  std::tie(e.jacobian_sq, e.jacobian_sq_se) = mean_and_se(jacobian_sq);
  e.pooled = std::sqrt(e.antisymmetric_sq / std::max(e.jacobian_sq, 1e-300));
  return e;
}

}  // namespace

AsymmetryEstimate asymmetry_of(const torch::Tensor& jacobians) {
  const auto j = jacobians.to(torch::kFloat64);
  const auto antisymmetric = 0.5 * (j - j.transpose(1, 2));
  return summarise(antisymmetric.pow(2).sum({1, 2}), j.pow(2).sum({1, 2}));
}

AsymmetryEstimate exact_asymmetry(const PointField& field, const torch::Tensor& x) {
  return asymmetry_of(jacobians(field, x));
}

AsymmetryEstimate randomized_asymmetry(const PointField& field, const torch::Tensor& x, int64_t probes,
                                       at::Generator& gen) {
  TORCH_CHECK(probes >= 1, "randomized asymmetry: at least one probe, got ", probes);
  auto antisymmetric_sq = torch::zeros({x.size(0)}, torch::kFloat64);
  auto jacobian_sq = torch::zeros({x.size(0)}, torch::kFloat64);
  for (int64_t k = 0; k < probes; ++k) {
    const auto z = (2 * torch::randint(2, x.sizes(), gen, torch::kLong) - 1).to(x.options());
    const JacobianProducts p = jacobian_products(field, x, z);
    antisymmetric_sq += (0.5 * (p.jz - p.jtz)).to(torch::kFloat64).pow(2).sum(1).cpu();
    jacobian_sq += p.jz.to(torch::kFloat64).pow(2).sum(1).cpu();
  }
  return summarise(antisymmetric_sq / static_cast<double>(probes), jacobian_sq / static_cast<double>(probes));
}

}  // namespace flowlab::diagnostics
