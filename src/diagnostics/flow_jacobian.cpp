#include "flowlab/diagnostics/flow_jacobian.h"

#include <torch/torch.h>

#include "flowlab/diagnostics/jacobian.h"

namespace flowlab::diagnostics {

FlowJacobian flow_jacobian(const solvers::Field& velocity, const torch::Tensor& x0, double t_end, int64_t steps,
                           int64_t directions, at::Generator* gen) {
  TORCH_CHECK(x0.dim() == 2 && x0.size(1) >= 2, "flow jacobian: x0 must be [B, d >= 2], got ", x0.sizes());
  TORCH_CHECK(steps >= 1 && t_end > 0, "flow jacobian: steps >= 1 and t_end > 0 are needed");
  const int64_t batch = x0.size(0), dim = x0.size(1);
  const int64_t m = directions == 0 ? dim : directions;
  TORCH_CHECK(m >= 2 && m <= dim, "flow jacobian: directions must be 0 or in [2, d = ", dim, "], got ", directions);
  TORCH_CHECK(m == dim || gen, "flow jacobian: fewer directions than dimensions need a generator");
  // The derivative of (x, Y P) at time t: (v, J_v Y P).
  const auto derivative = [&](const torch::Tensor& x, const torch::Tensor& y, double t) {
    const PointField field = [&](const torch::Tensor& p) {
      return velocity(p, torch::full({p.size(0)}, t, p.options()));
    };
    torch::Tensor v;  // the field's value comes with the products: one evaluation per stage
    const auto jy = jacobian_times(field, x, y.to(x.scalar_type()), &v).to(torch::kFloat64);
    return std::make_pair(v, jy);
  };
  const double h = t_end / static_cast<double>(steps);
  torch::Tensor x = x0.detach();
  const torch::Tensor start = m == dim ? torch::eye(dim, torch::kFloat64)
                                       : std::get<0>(torch::linalg_qr(torch::randn({dim, m}, *gen, torch::kFloat64)));
  torch::Tensor y = start.to(x.device()).expand({batch, dim, m}).clone();
  for (int64_t i = 0; i < steps; ++i) {
    const double t = h * static_cast<double>(i);
    const auto [v1, y1] = derivative(x, y, t);
    const auto [v2, y2] = derivative(x + 0.5 * h * v1, y + 0.5 * h * y1, t + 0.5 * h);
    const auto [v3, y3] = derivative(x + 0.5 * h * v2, y + 0.5 * h * y2, t + 0.5 * h);
    const auto [v4, y4] = derivative(x + h * v3, y + h * y3, t + h);
    x = x + (h / 6.0) * (v1 + 2 * v2 + 2 * v3 + v4);
    y = y + (h / 6.0) * (y1 + 2 * y2 + 2 * y3 + y4);
  }
  FlowJacobian out;
  out.x = x;
  out.jacobian = y;
  out.singular_values = torch::linalg_svdvals(y.cpu());
  const auto logs = torch::log(out.singular_values.clamp_min(1e-300));
  const auto gaps = logs.slice(1, 0, -1) - logs.slice(1, 1);
  out.dimension = gaps.argmax(1) + 1;
  return out;
}

}  // namespace flowlab::diagnostics
