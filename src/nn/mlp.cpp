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

// The activation written over h (no autograd: nothing keeps the pre-activation).
torch::Tensor activate_in_place(const std::string& name, torch::Tensor h) {
  if (name == "silu") return torch::silu_(h);
  if (name == "relu") return h.relu_();
  if (name == "tanh") return h.tanh_();
  return activate(name, h);
}

// True when every entry of the 1-D t is the same number (fixed-step ODE sampling).
bool one_time(const torch::Tensor& t) {
  if (t.size(0) <= 1) return true;
  const auto [low, high] = torch::aminmax(t);
  return torch::equal(low, high);
}

}  // namespace

// Without autograd each layer overwrites its own output, and a time shared by the whole batch
// enters as one bias row: W [x, e(t)] + b = W_x x + (W_e e(t) + b), so the time features and the
// time columns of the first layer cost one row instead of one per sample.
torch::Tensor Mlp::features_without_autograd(const torch::Tensor& x, const torch::Tensor& t,
                                             const data::Condition& condition) {
  const torch::Tensor flat_x = x.flatten(1);
  const int64_t features = flat_x.size(1);
  torch::nn::Linear& first = hidden_[0];
  torch::Tensor h;
  if (!class_embedding_ && !residual_[0] && one_time(t)) {
    const torch::Tensor& w = first->weight;
    const torch::Tensor e = embedding_->forward(t.narrow(0, 0, 1)).to(w.dtype());
    const torch::Tensor row = torch::addmm(first->bias.unsqueeze(0), e, w.narrow(1, features, w.size(1) - features).t());
    h = activate_in_place(options_.activation, torch::addmm(row, flat_x, w.narrow(1, 0, features).t()));
  } else {
    const torch::Tensor input = torch::cat({flat_x, embed(t, condition, x.size(0)).to(x.dtype())}, 1);
    h = activate_in_place(options_.activation, first->forward(input));
    if (residual_[0]) h.add_(input);
  }
  for (std::size_t i = 1; i < hidden_.size(); ++i) {
    torch::Tensor next = activate_in_place(options_.activation, hidden_[i]->forward(h));
    h = residual_[i] ? next.add_(h) : next;
  }
  return h;
}

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
  if (!torch::GradMode::is_enabled()) {
    const torch::Tensor h = features_without_autograd(x, t, condition);
    return with_output ? output_->forward(h) : h;
  }
  const bool constant_inputs = !x.requires_grad() && !t.requires_grad();
  torch::Tensor input;
  if (class_embedding_ || !constant_inputs) {
    input = torch::cat({x.flatten(1), embed(t, condition, x.size(0)).to(x.dtype())}, 1);
  } else {
    // [x, e(t)] assembled in one buffer: the embedding is written in place, no concatenation.
    const torch::Tensor flat_x = x.flatten(1);
    input = torch::empty({x.size(0), flat_x.size(1) + options_.time_embedding.dim}, x.options());
    input.narrow(1, 0, flat_x.size(1)).copy_(flat_x);
    embedding_->forward_into(t, input.narrow(1, flat_x.size(1), options_.time_embedding.dim));
  }
  // Training (gradients for the weights only): the layers as one autograd node. Where x or t
  // need gradients (Jacobians, energies, likelihoods) the ordinary graph serves higher
  // derivatives best.
  if (constant_inputs) return affine_stack(input, affine_layers(with_output), options_.activation);
  torch::Tensor h = input;
  for (std::size_t i = 0; i < hidden_.size(); ++i) {
    torch::Tensor next = activate(options_.activation, hidden_[i]->forward(h));
    h = residual_[i] ? h + next : next;
  }
  return with_output ? output_->forward(h) : h;
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
