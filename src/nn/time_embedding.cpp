#include "flowlab/nn/time_embedding.h"

#include <torch/torch.h>

#include <cmath>

namespace flowlab::nn {

TimeEmbeddingOptions TimeEmbeddingOptions::read(config::Node& node, int64_t default_dim) {
  TimeEmbeddingOptions o;
  o.dim = default_dim;
  o.type = node.get_choice("type", o.type, {"sinusoidal", "fourier", "identity"},
                           "time embedding; identity concatenates t itself (one feature)");
  if (o.type == "identity") {
    o.dim = 1;
    return o;
  }
  o.dim = node.get<int64_t>("dim", o.dim, "embedding features (even)");
  node.expect(o.dim >= 2 && o.dim % 2 == 0, "dim", "an even integer >= 2");
  if (o.type == "sinusoidal" || node.describing()) {
    o.max_period = node.get<double>("max_period", o.max_period, "sinusoidal: longest period");
    node.expect(o.max_period > 1, "max_period", "a number > 1");
    o.scale = node.get<double>("scale", o.scale, "sinusoidal: t is multiplied by this first");
    node.expect(o.scale > 0, "scale", "a number > 0");
  }
  if (o.type == "fourier" || node.describing()) {
    o.std = node.get<double>("std", o.std, "fourier: std of the random frequencies");
    node.expect(o.std > 0, "std", "a number > 0");
    o.seed = node.get<int64_t>("seed", o.seed, "fourier: seed of the random frequencies");
  }
  return o;
}

TimeEmbeddingImpl::TimeEmbeddingImpl(const TimeEmbeddingOptions& options) : options_(options) {
  if (options.type == "identity") return;
  const int64_t half = options.dim / 2;
  torch::Tensor frequencies;
  if (options.type == "fourier") {
    auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(options.seed));
    frequencies = 2.0 * M_PI * options.std * torch::randn({half}, gen, torch::kFloat32);
  } else {
    const auto k = torch::arange(half, torch::kFloat32);
    frequencies = options.scale * torch::exp(-std::log(options.max_period) * k / static_cast<double>(half));
  }
  frequencies_ = register_buffer("frequencies", frequencies);
}

torch::Tensor TimeEmbeddingImpl::forward(const torch::Tensor& t) {
  TORCH_CHECK(t.dim() == 1, "time embedding: t must be [B], got ", t.sizes());
  if (options_.type == "identity") return t.unsqueeze(1);
  const auto angles = t.to(frequencies_.dtype()).unsqueeze(1) * frequencies_.unsqueeze(0);
  return torch::cat({torch::sin(angles), torch::cos(angles)}, 1);
}

void TimeEmbeddingImpl::forward_into(const torch::Tensor& t, torch::Tensor out) {
  TORCH_CHECK(t.dim() == 1 && out.dim() == 2 && out.size(0) == t.size(0) && out.size(1) == options_.dim,
              "time embedding: t [B] into [B, ", options_.dim, "], got ", t.sizes(), " into ", out.sizes());
  if (options_.type == "identity") {
    out.copy_(t.unsqueeze(1));
    return;
  }
  const int64_t half = options_.dim / 2;
  const torch::Tensor angles = torch::outer(t.to(frequencies_.dtype()), frequencies_);
  if (out.scalar_type() == angles.scalar_type()) {
    torch::Tensor sines = out.narrow(1, 0, half), cosines = out.narrow(1, half, half);
    at::sin_out(sines, angles);
    at::cos_out(cosines, angles);
  } else {
    out.narrow(1, 0, half).copy_(torch::sin(angles));
    out.narrow(1, half, half).copy_(torch::cos(angles));
  }
}

}  // namespace flowlab::nn
