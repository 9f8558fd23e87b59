#include "flowlab/paths/cond_ot.h"

#include <torch/torch.h>

namespace flowlab::paths {

Coefficients CondOTPath::at(const torch::Tensor& t) const {
  const auto ones = torch::ones_like(t);
  return with_zero_gamma(1.0 - t, t.clone(), -ones, ones);
}

}  // namespace flowlab::paths
