#include "flowlab/ot/monge_gap.h"

#include <torch/torch.h>

namespace flowlab::ot {

torch::Tensor monge_gap(const torch::Tensor& x, const torch::Tensor& tx, const SinkhornOptions& options,
                        SinkhornReport* report) {
  TORCH_CHECK(x.defined() && tx.defined() && x.dim() == 2 && x.sizes() == tx.sizes(),
              "monge_gap: expected points x [n, d] and their images T(x) of the same shape, got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{}, " and ", tx.defined() ? tx.sizes() : torch::IntArrayRef{});
  // The displacement cost of each point with its own image: the diagonal of C.
  const torch::Tensor displacement = cost_matrix(x.unsqueeze(1), tx.unsqueeze(1), options.cost).mean();
  const SinkhornResult w = sinkhorn(x, tx, {}, {}, options);
  if (report != nullptr) *report = w.report;
  return displacement - w.entropy_value;
}

}  // namespace flowlab::ot
