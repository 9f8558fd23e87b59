#include "flowlab/diagnostics/jacobian.h"

#include <torch/torch.h>

namespace flowlab::diagnostics {

JacobianProducts jacobian_products(const PointField& field, const torch::Tensor& x, const torch::Tensor& z) {
  TORCH_CHECK(x.dim() == 2 && z.sizes() == x.sizes(), "jacobian products: x and z must be [B, d], got ", x.sizes(),
              " and ", z.sizes());
  torch::AutoGradMode enable(true);
  const auto xx = x.detach().requires_grad_(true);
  const auto f = field(xx);
  TORCH_CHECK(f.sizes() == x.sizes(), "jacobian products: the field must map [B, d] to [B, d], got ", f.sizes());
  if (!f.requires_grad()) return {torch::zeros_like(x), torch::zeros_like(x)};  // a constant field
  // w is a dummy cotangent: J^T w is linear in w, so d/dw ((J^T w) . z) = J z.
  const auto w = torch::zeros_like(f).requires_grad_(true);
  const auto jtw = torch::autograd::grad({f}, {xx}, {w}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const auto jz = torch::autograd::grad({jtw}, {w}, {z}, /*retain_graph=*/true)[0];
  const auto jtz = torch::autograd::grad({f}, {xx}, {z})[0];
  return {jz.detach(), jtz.detach()};
}

torch::Tensor jacobians(const PointField& field, const torch::Tensor& x, torch::Tensor* values) {
  TORCH_CHECK(x.dim() == 2, "jacobians: x must be [B, d], got ", x.sizes());
  torch::AutoGradMode enable(true);
  const auto xx = x.detach().requires_grad_(true);
  const auto f = field(xx);
  TORCH_CHECK(f.sizes() == x.sizes(), "jacobians: the field must map [B, d] to [B, d], got ", f.sizes());
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
