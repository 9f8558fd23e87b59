#include "flowlab/train/flat_parameters.h"

#include <torch/torch.h>

namespace flowlab::train {

torch::Tensor flat_view(const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty() || !tensors[0].defined()) return {};
  const torch::Tensor& first = tensors[0];
  if (!first.has_storage()) return {};
  const c10::StorageImpl* storage = first.storage().unsafeGetStorageImpl();
  int64_t next = first.storage_offset(), total = 0;
  for (const torch::Tensor& t : tensors) {
    if (!t.defined() || !t.has_storage() || !t.is_contiguous() || t.scalar_type() != first.scalar_type() ||
        t.device() != first.device() || t.storage().unsafeGetStorageImpl() != storage || t.storage_offset() != next) {
      return {};
    }
    next += t.numel();
    total += t.numel();
  }
  return torch::empty({0}, first.options().requires_grad(false))
      .set_(first.storage(), first.storage_offset(), {total}, {1});
}

namespace {

// Copies `tensors` (defined, one dtype and device) end to end into a new buffer and hands each
// its slot (`repoint(i, slot)`); returns the buffer.
template <class Repoint>
torch::Tensor pack_copy(const std::vector<torch::Tensor>& tensors, Repoint repoint) {
  torch::NoGradGuard no_grad;
  int64_t total = 0;
  for (const torch::Tensor& t : tensors) total += t.numel();
  torch::Tensor buffer = torch::empty({total}, tensors[0].options().requires_grad(false));
  int64_t offset = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    torch::Tensor slot = buffer.narrow(0, offset, tensors[i].numel()).view(tensors[i].sizes());
    slot.copy_(tensors[i]);
    repoint(i, slot);
    offset += tensors[i].numel();
  }
  return buffer;
}

}  // namespace

torch::Tensor pack_contiguously(const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return {};
  if (torch::Tensor flat = flat_view(tensors); flat.defined()) return flat;
  for (const torch::Tensor& t : tensors) {
    TORCH_CHECK(t.defined() && t.scalar_type() == tensors[0].scalar_type() && t.device() == tensors[0].device(),
                "pack_contiguously: tensors of one dtype and device expected");
  }
  // set_data keeps the tensor (its autograd identity, its holders) and swaps what it holds.
  return pack_copy(tensors, [&](std::size_t i, const torch::Tensor& slot) {
    const_cast<torch::Tensor&>(tensors[i]).set_data(slot);
  });
}

std::vector<torch::Tensor> gradients_of(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> grads;
  grads.reserve(parameters.size());
  for (const torch::Tensor& p : parameters) grads.push_back(p.grad());
  return grads;
}

torch::Tensor flat_gradients(const std::vector<torch::Tensor>& parameters) {
  if (parameters.empty()) return {};
  std::vector<torch::Tensor> grads = gradients_of(parameters);
  for (const torch::Tensor& g : grads) {
    if (!g.defined()) return {};
  }
  if (torch::Tensor flat = flat_view(grads); flat.defined()) return flat;
  return pack_copy(grads, [&](std::size_t i, const torch::Tensor& slot) {
    const_cast<torch::Tensor&>(parameters[i]).mutable_grad() = slot;
  });
}

}  // namespace flowlab::train
