#pragma once
// A stack of affine layers, each optionally followed by an activation and a residual
// connection, computed as one autograd node. A small MLP's training step is
// mostly per-operation overhead: the autograd engine visits ~3 nodes per layer,
// and the weight gradient of a Linear arrives transposed, so accumulating it is
// a strided pass. As one node, backward is 4 operations per layer and every
// gradient is contiguous. When backward itself is differentiated
// (create_graph), the node re-runs the stack with autograd and differentiates
// that, so higher derivatives stay exact.
#include <torch/types.h>

#include <string>
#include <vector>

namespace flowlab::nn {

struct AffineLayer {
  torch::Tensor weight;  ///< [out, in]
  torch::Tensor bias;    ///< [out]
  bool activated = true; ///< apply the activation after the affine map
  bool residual = false; ///< add the layer's input (in == out)
};

/// h_{k+1} = act(W_k h_k + b_k) (+ h_k), as torch::nn::Linear and `activation` (one of
/// activation_names()) would compute it, with the same gradients: as one autograd node when
/// `one_node` and something needs a gradient, as ordinary operations otherwise; without
/// autograd each layer overwrites its own output. A bias may be [1, out] (broadcast).
torch::Tensor affine_stack(const torch::Tensor& input, const std::vector<AffineLayer>& layers,
                           const std::string& activation, bool one_node = true);

}  // namespace flowlab::nn
