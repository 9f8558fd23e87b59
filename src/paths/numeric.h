#pragma once
// Small numeric helpers shared by the schedule code of this area (internal header).
#include <torch/torch.h>

#include <vector>

namespace flowlab::paths::detail {

constexpr double kHalfPi = 1.5707963267948966;

/// The values of `v` as doubles on the host, for scalar loops over knots.
inline std::vector<double> host_values(const torch::Tensor& v) {
  const torch::Tensor c = v.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace flowlab::paths::detail
