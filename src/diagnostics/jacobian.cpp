#include "flowlab/diagnostics/jacobian.h"

#include <torch/torch.h>

namespace flowlab::diagnostics {
namespace {

// The field at a fresh leaf copy of x [B, d], checked to map [B, d] to [B, d].
std::pair<torch::Tensor, torch::Tensor> evaluate_at_leaf(const PointField& field, const torch::Tensor& x,
                                                         const char* who) {
  TORCH_CHECK(x.dim() == 2, who, ": x must be [B, d], got ", x.sizes());
  auto leaf = x.detach().requires_grad_(true);
  auto f = field(leaf);
  TORCH_CHECK(f.sizes() == x.sizes(), who, ": the field must map [B, d] to [B, d], got ", f.sizes());
  return {leaf, f};
}

// J z from f = field(leaf): w is a dummy cotangent, J^T w is linear in w, so d/dw ((J^T w) . z) = J z.
torch::Tensor jacobian_vector(const torch::Tensor& f, const torch::Tensor& leaf, const torch::Tensor& z) {
  const auto w = torch::zeros_like(f).requires_grad_(true);
  const auto jtw = torch::autograd::grad({f}, {leaf}, {w}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  return torch::autograd::grad({jtw}, {w}, {z}, /*retain_graph=*/true)[0].detach();
}

}  // namespace

JacobianProducts jacobian_products(const PointField& field, const torch::Tensor& x, const torch::Tensor& z) {
  TORCH_CHECK(z.sizes() == x.sizes(), "jacobian products: x and z must both be [B, d], got ", x.sizes(), " and ",
              z.sizes());
  torch::AutoGradMode enable(true);
  const auto [xx, f] = evaluate_at_leaf(field, x, "jacobian products");
  if (!f.requires_grad()) return {torch::zeros_like(x), torch::zeros_like(x)};  // a constant field
  const auto jz = jacobian_vector(f, xx, z);
  const auto jtz = torch::autograd::grad({f}, {xx}, {z})[0];
  return {jz, jtz.detach()};
}

torch::Tensor jacobian_times(const PointField& field, const torch::Tensor& x, const torch::Tensor& directions,
                             torch::Tensor* values) {
  TORCH_CHECK(x.dim() == 2 && directions.dim() == 3 && directions.size(0) == x.size(0) &&
                  directions.size(1) == x.size(1),
              "jacobian times: x [B, d] and directions [B, d, m] are needed, got ", x.sizes(), " and ",
              directions.sizes());
  const int64_t batch = x.size(0), dim = x.size(1), m = directions.size(2);
  torch::AutoGradMode enable(true);
  // Row b's m copies sit at rows b m .. b m + m - 1.
  const auto copies = x.unsqueeze(1).expand({batch, m, dim}).reshape({batch * m, dim});
  const auto [xx, f] = evaluate_at_leaf(field, copies, "jacobian times");
  if (values) *values = f.detach().view({batch, m, dim}).select(1, 0);
  if (!f.requires_grad()) return torch::zeros_like(directions);
  const auto z = directions.transpose(1, 2).reshape({batch * m, dim}).to(f.scalar_type());
  return jacobian_vector(f, xx, z).view({batch, m, dim}).transpose(1, 2);
}

torch::Tensor divergences(const PointField& field, const torch::Tensor& x) {
  return jacobians(field, x).diagonal(0, 1, 2).sum(1);
}

torch::Tensor divergence_estimates(const PointField& field, const torch::Tensor& x, const torch::Tensor& probes) {
  TORCH_CHECK(probes.dim() == 3 && probes.size(1) == x.size(0) && probes.size(2) == x.size(1),
              "divergence estimates: probes must be [k, B, d] for x [B, d], got ", probes.sizes(), " for ", x.sizes());
  torch::AutoGradMode enable(true);
  const auto [xx, f] = evaluate_at_leaf(field, x, "divergence estimates");
  const int64_t k = probes.size(0);
  if (!f.requires_grad()) return torch::zeros({k, x.size(0)}, x.options());
  std::vector<torch::Tensor> estimates;
  for (int64_t j = 0; j < k; ++j) {
    const auto z = probes[j].to(f.scalar_type());
    const auto jtz = torch::autograd::grad({f}, {xx}, {z}, /*retain_graph=*/j + 1 < k)[0];
    estimates.push_back((jtz.detach() * z).sum(1));
  }
  return torch::stack(estimates);
}

torch::Tensor jacobians(const PointField& field, const torch::Tensor& x, torch::Tensor* values) {
  torch::AutoGradMode enable(true);
  const auto [xx, f] = evaluate_at_leaf(field, x, "jacobians");
  if (values) *values = f.detach();
  const int64_t d = x.size(1);
  // A field that does not depend on x (a constant) has no graph: its Jacobian is 0.
  if (!f.requires_grad()) return torch::zeros({x.size(0), d, d}, x.options());
  std::vector<torch::Tensor> rows;
  for (int64_t i = 0; i < d; ++i) {
    // Row i of every point's Jacobian: the gradient of f[:, i] (rows are independent of each other).
    auto e = torch::zeros_like(f);
    e.select(1, i).fill_(1.0);
    rows.push_back(torch::autograd::grad({f}, {xx}, {e}, /*retain_graph=*/i + 1 < d)[0].detach());
  }
  return torch::stack(rows, 1);
}

}  // namespace flowlab::diagnostics
