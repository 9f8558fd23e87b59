#include "flowlab/diagnostics/circulation.h"

#include <torch/torch.h>

#include <cmath>

namespace flowlab::diagnostics {

std::pair<torch::Tensor, torch::Tensor> random_planes(int64_t points, int64_t dim, at::Generator& gen,
                                                      torch::ScalarType dtype) {
  TORCH_CHECK(dim >= 2, "random planes need dimension >= 2, got ", dim);
  const auto a = torch::randn({points, dim}, gen, torch::kFloat64);
  const auto b = torch::randn({points, dim}, gen, torch::kFloat64);
  const auto u = a / a.norm(2, 1, true);
  auto v = b - (b * u).sum(1, true) * u;
  v = v / v.norm(2, 1, true);
  return {u.to(dtype), v.to(dtype)};
}

LoopIntegral loop_integral(const PointField& field, const torch::Tensor& x, const torch::Tensor& u,
                           const torch::Tensor& v, double radius, int64_t points) {
  TORCH_CHECK(x.dim() == 2 && u.sizes() == x.sizes() && v.sizes() == x.sizes(),
              "loop integral: x, u and v must all be [B, d]");
  TORCH_CHECK(points >= 3 && radius > 0, "loop integral: at least 3 points and a positive radius");
  const double step = 2.0 * M_PI / static_cast<double>(points);
  auto circulation = torch::zeros({x.size(0)}, torch::kFloat64);
  auto magnitude = torch::zeros({x.size(0)}, torch::kFloat64);
  const auto uu = u.to(x.options()), vv = v.to(x.options());
  for (int64_t k = 0; k < points; ++k) {
    const double phi = step * static_cast<double>(k);
    const auto on_circle = x + radius * (std::cos(phi) * uu + std::sin(phi) * vv);
    const auto tangent = radius * (-std::sin(phi) * uu + std::cos(phi) * vv);
    const auto f = field(on_circle).detach();
    circulation += step * (f * tangent).sum(1).to(torch::kFloat64).cpu();
    magnitude += step * (f.norm(2, 1) * tangent.norm(2, 1)).to(torch::kFloat64).cpu();
  }
  return {circulation, magnitude};
}

torch::Tensor small_loop_circulation(const torch::Tensor& jacobians, const torch::Tensor& u, const torch::Tensor& v,
                                     double radius) {
  const auto j = jacobians.to(torch::kFloat64);
  const auto antisymmetric = j - j.transpose(1, 2);
  const auto ju = torch::bmm(antisymmetric, u.to(j.options()).unsqueeze(2)).squeeze(2);
  return M_PI * radius * radius * (v.to(j.options()) * ju).sum(1);
}

}  // namespace flowlab::diagnostics
