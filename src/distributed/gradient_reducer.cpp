#include "flowlab/distributed/gradient_reducer.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <algorithm>
#include <utility>

#include "flowlab/core/error.h"

namespace flowlab::distributed {

// Runs after a parameter's gradient accumulator has added this step's gradient into .grad.
class ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(GradientReducer* reducer, std::size_t index) : reducer_(reducer), index_(index) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    reducer_->mark_ready(index_);
    return outputs;
  }

 private:
  GradientReducer* reducer_;
  std::size_t index_;
};

// A node's handle is a std::shared_ptr in LibTorch 1.x, a c10::intrusive_ptr in 2.x.
struct GradientReducer::Hooks {
  using Handle = decltype(torch::autograd::impl::grad_accumulator(std::declval<const torch::autograd::Variable&>()));
  std::vector<Handle> accumulators;
  std::vector<uintptr_t> keys;
};

GradientReducer::GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> parameters, ReducerOptions options)
    : group_(group), options_(options) {
  for (torch::Tensor& p : parameters) {
    if (p.requires_grad() && p.numel() > 0) parameters_.push_back(p);
  }
  if (parameters_.empty()) throw Error("data-parallel training: the optimizer has no parameters that require grad");
  const torch::Tensor& first = parameters_.front();
  int64_t total = 0;
  for (const torch::Tensor& p : parameters_) {
    if (p.scalar_type() != first.scalar_type() || p.device() != first.device()) {
      throw Error("data-parallel training needs an optimizer's parameters in one dtype and on one device");
    }
    total += p.numel();
  }
  buffer_ = torch::zeros({total + 1}, first.options().requires_grad(false));
  int64_t offset = 0;
  for (const torch::Tensor& p : parameters_) {
    slots_.push_back(buffer_.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
  // Buckets of consecutive parameters from the last one back, so a bucket fills early in backward.
  const int64_t element = static_cast<int64_t>(first.element_size());
  bucket_of_.assign(parameters_.size(), 0);
  int64_t end = total;  // the bucket being filled covers [start, end)
  int64_t filled = 0, count = 0;
  for (std::size_t k = parameters_.size(); k-- > 0;) {
    const int64_t cap = buckets_.empty() ? options_.first_bucket_bytes : options_.bucket_bytes;
    const int64_t bytes = parameters_[k].numel() * element;
    if (count > 0 && (filled + bytes) > cap) {
      Bucket b;
      b.offset = end - filled / element;
      b.numel = filled / element;
      b.parameters = count;
      buckets_.push_back(std::move(b));
      end -= filled / element;
      filled = 0;
      count = 0;
    }
    filled += bytes;
    ++count;
    bucket_of_[k] = buckets_.size();
  }
  Bucket last;
  last.offset = 0;
  last.numel = end;
  last.parameters = count;
  buckets_.push_back(std::move(last));
  buckets_.front().numel += 1;  // the vote, at the end of the buffer, goes with the first bucket
  point_gradients();
  ready_.assign(parameters_.size(), false);
  hooks_ = std::make_unique<Hooks>();
  if (options_.overlap) {
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      auto accumulator = torch::autograd::impl::grad_accumulator(parameters_[i]);
      hooks_->keys.push_back(accumulator->add_post_hook(std::make_unique<ReadyHook>(this, i)));
      hooks_->accumulators.push_back(std::move(accumulator));
    }
  }
}

GradientReducer::~GradientReducer() {
  for (std::size_t i = 0; i < hooks_->accumulators.size(); ++i) hooks_->accumulators[i]->del_post_hook(hooks_->keys[i]);
  try {
    for (Bucket& b : buckets_) {
      if (b.work) b.work->wait();
    }
  } catch (...) {
    // A failed collective was reported where it was waited for; a destructor must not throw.
  }
}

// A gradient re-pointed elsewhere (a checkpoint load, an optimizer packing it) comes back to its
// slot, its value kept.
void GradientReducer::point_gradients() {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& p = parameters_[i];
    const torch::Tensor& grad = p.grad();
    if (grad.defined() && grad.data_ptr() == slots_[i].data_ptr() && grad.sizes() == slots_[i].sizes() &&
        grad.strides() == slots_[i].strides()) {
      continue;
    }
    if (grad.defined()) slots_[i].copy_(grad);
    p.mutable_grad() = slots_[i];
  }
}

void GradientReducer::begin(float vote) {
  point_gradients();
  buffer_.zero_();
  if (vote != 0) buffer_.narrow(0, buffer_.numel() - 1, 1).fill_(vote);
  std::lock_guard<std::mutex> lock(mutex_);
  std::fill(ready_.begin(), ready_.end(), false);
  for (Bucket& b : buckets_) b.pending = b.parameters;
  next_launch_ = 0;
  armed_ = options_.overlap;
}

void GradientReducer::mark_ready(std::size_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || ready_[index]) return;
  ready_[index] = true;
  --buckets_[bucket_of_[index]].pending;
  launch_ready_buckets();
}

void GradientReducer::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& b = buckets_[next_launch_++];
    torch::Tensor view = buffer_.narrow(0, b.offset, b.numel);
    b.work = group_.all_reduce(view);
  }
}

void GradientReducer::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = false;
    // A parameter without a gradient this step adds zeros; every process starts the same buckets.
    for (Bucket& b : buckets_) b.pending = 0;
    launch_ready_buckets();
  }
  for (Bucket& b : buckets_) {
    std::unique_ptr<PendingCollective> work = std::move(b.work);
    work->wait();
  }
  // Accumulation into a re-pointed gradient (a backward with create_graph) would have left the slot.
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (parameters_[i].grad().data_ptr() != slots_[i].data_ptr()) {
      throw Error("data-parallel training: a gradient left the reducer's buffer during backward "
                  "(backward with create_graph is not supported)");
    }
  }
  buffer_.div_(static_cast<double>(group_.size()));
}

torch::Tensor GradientReducer::votes() const {
  return buffer_[buffer_.numel() - 1] * static_cast<double>(group_.size());
}

void broadcast_from_rank0(ProcessGroup& group, const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> contiguous;
  for (const torch::Tensor& t : tensors) {
    if (t.defined() && t.numel() > 0) contiguous.push_back(t.is_contiguous() ? t : t.contiguous());
  }
  group.broadcast(contiguous, 0);
  std::size_t k = 0;
  for (const torch::Tensor& t : tensors) {
    if (!t.defined() || t.numel() == 0) continue;
    if (!t.is_contiguous()) const_cast<torch::Tensor&>(t).copy_(contiguous[k]);
    ++k;
  }
}

}  // namespace flowlab::distributed
