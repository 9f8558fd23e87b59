#include "flowlab/paths/cond_ot.h"

#include <torch/torch.h>

namespace flowlab::paths {

Coefficients CondOTPath::at(const torch::Tensor& t) const {
  const auto ones = torch::ones_like(t);
  return with_zero_gamma(1.0 - t, t.clone(), -ones, ones);
}

PathSample CondOTPath::sample(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t,
                              const torch::Tensor& z) const {
  check_sample_shapes(x0, x1, t);
  PathSample s{t, x0, x1, z, {}, {}};
  s.dx_t = x1 - x0;
  s.x_t = torch::addcmul(x0, broadcast_to_sample(t, x0), s.dx_t);
  return s;
}

}  // namespace flowlab::paths
