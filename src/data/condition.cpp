#include "flowlab/data/condition.h"

#include <torch/torch.h>

namespace flowlab::data {

Condition Condition::slice(int64_t begin, int64_t end) const {
  if (empty()) return {};
  return Condition{labels.slice(0, begin, end)};
}

Condition Condition::rows(const torch::Tensor& index) const {
  if (empty() || !index.defined()) return *this;
  return Condition{labels.index_select(0, index.to(labels.device()))};
}

Condition Condition::to(const torch::Device& device) const {
  if (empty()) return {};
  return Condition{labels.to(device)};
}

Condition Condition::repeat(int64_t times) const {
  if (empty()) return {};
  return Condition{labels.repeat({times})};
}

Condition null_condition(int64_t n, const torch::Device& device) {
  return Condition{torch::full({n}, kNullClass, torch::TensorOptions().dtype(torch::kLong).device(device))};
}

Condition concat(const Condition& a, const Condition& b) {
  TORCH_CHECK(a.empty() == b.empty(), "condition: cannot join a conditioned and an unconditioned batch");
  if (a.empty()) return {};
  return Condition{torch::cat({a.labels, b.labels})};
}

}  // namespace flowlab::data
