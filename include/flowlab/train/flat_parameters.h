#pragma once
// Parameters laid end to end in one buffer. A small network's training step is
// dominated by per-tensor work, not arithmetic: an optimizer, the gradient norm
// and the EMA cost a few kernel launches per parameter tensor. With the
// parameters (and their gradients) views of one buffer, each is a handful of
// whole-buffer operations. Tensors keep their identity, so modules, optimizers
// and checkpoints see the same parameters as before; anything that re-points a
// parameter (loading a checkpoint) only makes the next caller pack it again.
#include <torch/types.h>

#include <vector>

namespace flowlab::train {

/// The 1-D tensor covering `tensors` when they are defined, contiguous, of one dtype
/// and device, and lie end to end in one storage in this order; undefined otherwise.
torch::Tensor flat_view(const std::vector<torch::Tensor>& tensors);

/// Makes `tensors` views of one new buffer, values kept (Tensor::set_data, so every holder of
/// a tensor sees the move), and returns the buffer. When they already are, returns their
/// flat view. Needs one dtype and device; an empty list gives an undefined tensor.
torch::Tensor pack_contiguously(const std::vector<torch::Tensor>& tensors);

/// The gradients of `parameters` (undefined entries where a parameter has none).
std::vector<torch::Tensor> gradients_of(const std::vector<torch::Tensor>& parameters);

/// The flat view of the gradients of `parameters`, packing them into one buffer first when
/// they are all defined but apart; undefined when some parameter has no gradient.
torch::Tensor flat_gradients(const std::vector<torch::Tensor>& parameters);

}  // namespace flowlab::train
