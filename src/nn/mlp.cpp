#include "flowlab/nn/mlp.h"

#include <torch/torch.h>

#include <numeric>

namespace flowlab::nn {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names{"silu", "relu", "gelu", "tanh", "softplus"};
  return names;
}

MlpOptions MlpOptions::read(config::Node& node) {
  MlpOptions o;
  o.hidden = node.get<std::vector<int64_t>>("hidden", o.hidden, "hidden layer widths");
  bool positive = !o.hidden.empty();
  for (int64_t w : o.hidden) positive = positive && w > 0;
  node.expect(positive, "hidden", "a non-empty list of positive widths");
  o.activation = node.get_choice("activation", o.activation, activation_names(), "nonlinearity");
  o.residual = node.get<bool>("residual", o.residual, "residual connections between equal-width layers");
  config::Node embedding = node.section("time_embedding", "how t enters the network");
  o.time_embedding = TimeEmbeddingOptions::read(embedding);
  embedding.check_all_used();
  return o;
}

Mlp::Mlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs, bool scalars)
    : Network(outputs), options_(options), shape_(shape), scalars_(scalars) {
  TORCH_CHECK(outputs >= 1, "mlp: outputs must be >= 1, got ", outputs);
  const int64_t features = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
  embedding_ = register_module("time_embedding", std::make_shared<TimeEmbeddingImpl>(options.time_embedding));
  layers_ = register_module("layers", torch::nn::ModuleList());
  int64_t width = features + options.time_embedding.dim;
  for (int64_t h : options.hidden) {
    hidden_.emplace_back(width, h);
    layers_->push_back(hidden_.back());
    residual_.push_back(options.residual && h == width);
    width = h;
  }
  output_ = register_module("output", torch::nn::Linear(width, (scalars ? 1 : features) * outputs));
}

torch::Tensor Mlp::activate(const torch::Tensor& h) const {
  const std::string& a = options_.activation;
  if (a == "silu") return torch::silu(h);
  if (a == "relu") return torch::relu(h);
  if (a == "gelu") return torch::gelu(h);
  if (a == "tanh") return torch::tanh(h);
  return torch::softplus(h);
}

torch::Tensor Mlp::forward(const torch::Tensor& x, const torch::Tensor& t) {
  TORCH_CHECK(x.dim() >= 2 && t.dim() == 1 && t.size(0) == x.size(0), "mlp: x ", x.sizes(), " and t ", t.sizes(),
              " must share the batch dimension");
  torch::Tensor h = torch::cat({x.flatten(1), embedding_->forward(t).to(x.dtype())}, 1);
  for (std::size_t i = 0; i < hidden_.size(); ++i) {
    torch::Tensor next = activate(hidden_[i]->forward(h));
    h = residual_[i] ? h + next : next;
  }
  if (scalars_) return output_->forward(h);
  std::vector<int64_t> shape = x.sizes().vec();
  shape[1] *= outputs();  // heads stacked along dimension 1, each laid out like x
  return output_->forward(h).view(shape);
}

}  // namespace flowlab::nn
