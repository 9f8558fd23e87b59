#pragma once
// Which rows of a training batch this process computes. Data-parallel training draws every
// batch whole (data, source, pairing, times, noise: the same draws from the same stream as one
// process would make) and each of `count` processes keeps its equal, consecutive share. The
// gradient averaged over the processes is then the one-process gradient up to the rounding of
// the reduction, and a run does not depend on how many processes trained it.
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "flowlab/data/condition.h"
#include "flowlab/data/dataset.h"

namespace flowlab::data {

struct BatchShard {
  int64_t index = 0;  ///< this process's share, 0 .. count - 1
  int64_t count = 1;  ///< processes sharing a batch
  /// Sums a tensor in place over the processes (set by the trainer for a data-parallel run).
  std::function<void(torch::Tensor&)> sum_in_place;

  bool whole() const { return count == 1; }
  /// The batch size that `local` rows are a share of.
  int64_t whole_size(int64_t local) const { return local * count; }
  /// This share's rows (along dim 0) of a whole batch, whose size `count` must divide.
  torch::Tensor take(const torch::Tensor& whole) const;
  Condition take(const Condition& whole) const;
  /// x and labels of a drawn batch.
  Batch take(const Batch& whole) const;
  /// `sizes` with dim 0 made the whole batch's: draw with these, then take().
  std::vector<int64_t> whole_sizes(torch::IntArrayRef local) const;
  /// The sum over the processes of `local` (a statistic of each share, e.g. a count per bin):
  /// the whole batch's statistic. `local` itself for a whole batch.
  torch::Tensor sum(const torch::Tensor& local) const;
};

}  // namespace flowlab::data
