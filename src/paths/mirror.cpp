#include "flowlab/paths/mirror.h"

#include <torch/torch.h>

#include "flowlab/core/error.h"

namespace flowlab::paths {

MirrorPath::MirrorPath(const TwoSidedOptions& options) : options_(options) {
  if (options_.gamma.type == "zero") {
    throw Error("the mirror path needs gamma > 0 on (0, 1): with gamma = 0 it is x_t = x1 for every t");
  }
}

Coefficients MirrorPath::at(const torch::Tensor& t) const {
  const GammaValues g = gamma_at(options_.gamma, t, clip());
  const auto ones = torch::ones_like(t);
  return {1.0 - t, t.clone(), g.gamma, -ones, ones, g.d_gamma, g.gamma_d_gamma};
}

}  // namespace flowlab::paths
