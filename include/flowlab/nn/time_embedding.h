#pragma once
// Embeddings of scalar time t [B] into features [B, dim].
#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>

#include "flowlab/config/node.h"

namespace flowlab::nn {

struct TimeEmbeddingOptions {
  std::string type = "sinusoidal";  ///< sinusoidal | fourier | identity
  int64_t dim = 64;                 ///< output features (even)
  double max_period = 10000.0;      ///< sinusoidal: longest period, in units of t * scale
  double scale = 1000.0;            ///< sinusoidal: t is multiplied by this first
  double std = 16.0;                ///< fourier: std of the random frequencies
  int64_t seed = 0;                 ///< fourier: seed of the random frequencies
  /// `default_dim`: the dim when the section does not set one (networks scale it to their width).
  static TimeEmbeddingOptions read(config::Node& node, int64_t default_dim = 64);
};

/// sinusoidal: [sin(w_k s t), cos(w_k s t)], w_k = max_period^(-k / (dim/2)), k < dim/2
///   (the transformer / DDPM embedding).
/// fourier: [sin(2 pi f_k t), cos(2 pi f_k t)], f_k ~ N(0, std^2) fixed at construction
///   (random Fourier features; stored as a buffer so checkpoints keep them).
/// identity: t itself, one feature (the interpolants paper's 2-D networks).
class TimeEmbeddingImpl : public torch::nn::Module {
 public:
  explicit TimeEmbeddingImpl(const TimeEmbeddingOptions& options);
  torch::Tensor forward(const torch::Tensor& t);
  /// forward(t) written into `out` [B, dim] (a view of a wider buffer may be given), in its dtype.
  void forward_into(const torch::Tensor& t, torch::Tensor out);
  int64_t dim() const { return options_.dim; }

 private:
  TimeEmbeddingOptions options_;
  torch::Tensor frequencies_;  // [dim / 2], multiplied by t
};

}  // namespace flowlab::nn
