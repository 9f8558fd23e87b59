#include "flowlab/paths/cond_ot.h"

#include <torch/torch.h>

namespace flowlab::paths {

Coefficients CondOTPath::at(const torch::Tensor& t) const {
  const auto zeros = torch::zeros_like(t);
  const auto ones = torch::ones_like(t);
  return {1.0 - t, t, zeros, -ones, ones, zeros, zeros};
}

}  // namespace flowlab::paths
