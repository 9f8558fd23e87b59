#include "flowlab/data/batch_shard.h"

#include <torch/torch.h>

namespace flowlab::data {

torch::Tensor BatchShard::take(const torch::Tensor& whole) const {
  if (count == 1 || !whole.defined() || whole.dim() == 0) return whole;
  const int64_t rows = whole.size(0);
  TORCH_CHECK(rows % count == 0, "a batch of ", rows, " rows does not split into ", count, " equal shares");
  const int64_t share = rows / count;
  return whole.narrow(0, index * share, share);
}

Condition BatchShard::take(const Condition& whole) const { return Condition{take(whole.labels)}; }

Batch BatchShard::take(const Batch& whole) const { return Batch{take(whole.x), take(whole.label)}; }

torch::Tensor BatchShard::sum(const torch::Tensor& local) const {
  if (count == 1) return local;
  TORCH_CHECK(sum_in_place, "BatchShard::sum: no reduction over the processes was set");
  torch::Tensor total = local.detach().clone().contiguous();
  sum_in_place(total);
  return total;
}

std::vector<int64_t> BatchShard::whole_sizes(torch::IntArrayRef local) const {
  std::vector<int64_t> sizes(local.begin(), local.end());
  if (!sizes.empty()) sizes[0] *= count;
  return sizes;
}

}  // namespace flowlab::data
