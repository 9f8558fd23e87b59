#include "flowlab/nn/mlp.h"

#include <torch/torch.h>

#include <numeric>

#include "flowlab/nn/affine_stack.h"

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
  o.num_classes = node.get<int64_t>("num_classes", o.num_classes,
                                    "classes of a class-conditional network (a learned class embedding added to the "
                                    "time embedding, plus a null class); 0: unconditional; auto: the data's classes");
  node.expect(o.num_classes >= 0, "num_classes", "an integer >= 0 (or auto)");
  return o;
}

Mlp::Mlp(const MlpOptions& options, const SampleShape& shape, int64_t outputs, bool scalars)
    : Network(outputs, options.num_classes), options_(options), shape_(shape), scalars_(scalars) {
  TORCH_CHECK(outputs >= 1, "mlp: outputs must be >= 1, got ", outputs);
  const int64_t features = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
  embedding_ = register_module("time_embedding", std::make_shared<TimeEmbeddingImpl>(options.time_embedding));
  if (options.num_classes > 0) {
    class_embedding_ = register_module(
        "class_embedding", torch::nn::Embedding(options.num_classes + 1, options.time_embedding.dim));
  }
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

torch::Tensor activate(const std::string& name, const torch::Tensor& h) {
  if (name == "silu") return torch::silu(h);
  if (name == "relu") return torch::relu(h);
  if (name == "gelu") return torch::gelu(h);
  if (name == "tanh") return torch::tanh(h);
  return torch::softplus(h);
}

torch::Tensor class_rows(const data::Condition& condition, int64_t num_classes, int64_t batch,
                         const torch::Device& device) {
  const auto long_options = torch::TensorOptions().dtype(torch::kLong).device(device);
  if (condition.empty()) return torch::full({batch}, num_classes, long_options);
  const torch::Tensor& labels = condition.labels;
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == batch && labels.scalar_type() == torch::kLong,
              "class labels must be int64 [", batch, "], got ", labels.scalar_type(), " ", labels.sizes());
  TORCH_CHECK(!(labels < data::kNullClass).logical_or(labels >= num_classes).any().item<bool>(),
              "class labels must lie in [0, ", num_classes, ") or be the null class ", data::kNullClass);
  const torch::Tensor on_device = labels.to(device);
  return torch::where(on_device < 0, torch::full_like(on_device, num_classes), on_device);
}

torch::Tensor Mlp::embed(const torch::Tensor& t, const data::Condition& condition, int64_t batch) {
  torch::Tensor e = embedding_->forward(t);
  if (!class_embedding_) {
    TORCH_CHECK(condition.empty(), "mlp: labels given to an unconditional network (model.num_classes is 0)");
    return e;
  }
  return e + class_embedding_->forward(class_rows(condition, options_.num_classes, batch, t.device()));
}

namespace {

// True when every entry of the 1-D t is the same number (fixed-step ODE sampling).
bool one_time(const torch::Tensor& t) {
  if (t.size(0) <= 1) return true;
  // Off the CPU, reading t back would cost a host sync per evaluation (and is not allowed inside
  // a CUDA graph capture); the per-sample time features are cheap there.
  if (!t.is_cpu()) return false;
  const auto [low, high] = torch::aminmax(t);
  return torch::equal(low, high);
}

}  // namespace

std::vector<AffineLayer> Mlp::affine_layers(bool with_output) const {
  std::vector<AffineLayer> layers;
  for (std::size_t i = 0; i < hidden_.size(); ++i) {
    layers.push_back({hidden_[i]->weight, hidden_[i]->bias, true, residual_[i]});
  }
  if (with_output) layers.push_back({output_->weight, output_->bias, false, false});
  return layers;
}

torch::Tensor Mlp::stack(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition,
                         bool with_output) {
  TORCH_CHECK(x.dim() >= 2 && t.dim() == 1 && t.size(0) == x.size(0), "mlp: x ", x.sizes(), " and t ", t.sizes(),
              " must share the batch dimension");
  TORCH_CHECK(class_embedding_ || condition.empty(),
              "mlp: labels given to an unconditional network (model.num_classes is 0)");
  std::vector<AffineLayer> layers = affine_layers(with_output);
  const torch::Tensor flat_x = x.flatten(1);
  const int64_t features = flat_x.size(1);
  const bool constant_inputs = !x.requires_grad() && !t.requires_grad();
  torch::Tensor input;
  if (!torch::GradMode::is_enabled() && !class_embedding_ && !residual_[0] && one_time(t)) {
    // Sampling at one time for the whole batch: W [x, e(t)] + b = W_x x + (W_e e(t) + b), so the
    // time features and the first layer's time columns cost one row, not one per sample.
    const torch::Tensor w = layers[0].weight;
    const torch::Tensor e = embedding_->forward(t.narrow(0, 0, 1)).to(w.dtype());
    layers[0].bias = torch::addmm(layers[0].bias.unsqueeze(0), e, w.narrow(1, features, w.size(1) - features).t());
    layers[0].weight = w.narrow(1, 0, features);
    input = flat_x;
  } else if (class_embedding_ || !constant_inputs) {
    input = torch::cat({flat_x, embed(t, condition, x.size(0)).to(x.dtype())}, 1);
  } else {
    // [x, e(t)] assembled in one buffer: the embedding is written in place, no concatenation.
    input = torch::empty({x.size(0), features + options_.time_embedding.dim}, x.options());
    input.narrow(1, 0, features).copy_(flat_x);
    embedding_->forward_into(t, input.narrow(1, features, options_.time_embedding.dim));
  }
  // Training (gradients for the weights only) runs the layers as one autograd node; where x or
  // t need gradients (Jacobians, energies, likelihoods) the ordinary graph serves higher
  // derivatives best.
  return affine_stack(input, layers, options_.activation, constant_inputs);
}

int64_t Mlp::multiply_adds_per_sample() const {
  int64_t total = 0;
  for (const AffineLayer& layer : affine_layers(true)) total += layer.weight.numel();
  return total;
}

torch::Tensor Mlp::features(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  return stack(x, t, condition, false);
}

torch::Tensor Mlp::forward(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  const torch::Tensor out = stack(x, t, condition, true);
  if (scalars_) return out;
  std::vector<int64_t> shape = x.sizes().vec();
  shape[1] *= outputs();  // heads stacked along dimension 1, each laid out like x
  return out.view(shape);
}

}  // namespace flowlab::nn
