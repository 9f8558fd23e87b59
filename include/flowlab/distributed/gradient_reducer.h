#pragma once
// Data-parallel gradients without PyTorch's Reducer (its constructor changes with every
// release, and its header does not compile against Debian's 1.13): each process computes the
// gradient of its share of the batch, and the reducer makes every process hold the mean over
// the processes before the update. The gradients of the parameters are views of one buffer,
// cut into buckets of consecutive parameters (the last layers, whose gradients come first in
// backward, in a small first bucket). A hook on each parameter's gradient accumulator counts
// it in; a full bucket is summed over the processes at once, in bucket order on every process,
// while backward goes on, so communication overlaps computation. finish() waits for the
// buckets and divides by the number of processes. The gradients stay one buffer in parameter
// order, so the fused optimizers (train/flat_parameters.h) use them without packing.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "flowlab/distributed/process_group.h"

namespace flowlab::distributed {

struct ReducerOptions {
  int64_t bucket_bytes = 25 << 20;       ///< PyTorch DDP's default bucket_cap_mb = 25
  int64_t first_bucket_bytes = 1 << 20;  ///< the first bucket (the last layers) starts the overlap early
  /// Launch buckets from the hooks while backward runs; false: all buckets after backward.
  bool overlap = true;
};

class GradientReducer {
 public:
  /// `parameters`: those of one optimizer, of one dtype and device (those that require grad
  /// take part). Their gradients become views of the reducer's buffer.
  GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> parameters, ReducerOptions options = {});
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// Before backward: zeroes the gradients and arms the hooks. `vote` is summed over the
  /// processes along with the gradients (e.g. 1 where a stop was asked for).
  void begin(float vote = 0);
  /// After backward: starts the buckets the hooks did not (parameters without a gradient this
  /// step count as zero), waits for all, and divides by the number of processes.
  void finish();
  /// The sum over the processes of the votes of the last step (0-dim, on the buffer's device:
  /// reading it on CUDA waits for the step).
  torch::Tensor votes() const;
  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    int64_t offset = 0, numel = 0;  // in the buffer
    int64_t parameters = 0;         // parameters in it
    int64_t pending = 0;            // parameters not yet accumulated this step
    std::unique_ptr<PendingCollective> work;
  };
  friend class ReadyHook;
  /// From a gradient accumulator's hook: parameter `index` has its gradient for this step.
  void mark_ready(std::size_t index);
  void launch_ready_buckets();  // in order: a bucket starts only after those before it
  void point_gradients();

  ProcessGroup& group_;
  ReducerOptions options_;
  std::vector<torch::Tensor> parameters_;  // those that require grad, in the optimizer's order
  std::vector<std::size_t> bucket_of_;     // by parameter
  std::vector<Bucket> buckets_;            // bucket 0 holds the last parameters
  torch::Tensor buffer_;                   // every gradient, then one slot for the vote
  std::vector<torch::Tensor> slots_;       // each parameter's gradient view of buffer_
  std::vector<bool> ready_;
  std::size_t next_launch_ = 0;
  bool armed_ = false;
  std::mutex mutex_;  // hooks run on autograd's threads
  struct Hooks;  // the gradient accumulators (kept alive: they hold the hooks) and the hooks' keys
  std::unique_ptr<Hooks> hooks_;
};

/// Rank 0's values of `tensors` (parameters, buffers) in every process.
void broadcast_from_rank0(ProcessGroup& group, const std::vector<torch::Tensor>& tensors);

}  // namespace flowlab::distributed
