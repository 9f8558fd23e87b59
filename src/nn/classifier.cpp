#include "flowlab/nn/classifier.h"

#include <torch/torch.h>

#include <numeric>

#include "flowlab/nn/mlp.h"

namespace flowlab::nn {
namespace {

class MlpClassifier : public Classifier {
 public:
  MlpClassifier(const MlpClassifierOptions& options, const SampleShape& shape, int64_t classes)
      : Classifier(classes), options_(options) {
    int64_t width = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
    layers_ = register_module("layers", torch::nn::ModuleList());
    for (int64_t h : options.hidden) {
      hidden_.emplace_back(width, h);
      layers_->push_back(hidden_.back());
      width = h;
    }
    output_ = register_module("output", torch::nn::Linear(width, classes));
  }

  torch::Tensor features(const torch::Tensor& x) override {
    torch::Tensor h = x.flatten(1);
    for (std::size_t i = 0; i < hidden_.size(); ++i) {
      if (i > 0 && options_.dropout > 0) h = torch::dropout(h, options_.dropout, is_training());
      h = activate(options_.activation, hidden_[i]->forward(h));
    }
    return h;
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor h = features(x);
    if (!hidden_.empty() && options_.dropout > 0) h = torch::dropout(h, options_.dropout, is_training());
    return output_->forward(h);
  }

 private:
  MlpClassifierOptions options_;
  torch::nn::ModuleList layers_;
  std::vector<torch::nn::Linear> hidden_;
  torch::nn::Linear output_{nullptr};
};

class CnnClassifier : public Classifier {
 public:
  CnnClassifier(const CnnClassifierOptions& options, const SampleShape& shape, int64_t classes)
      : Classifier(classes), options_(options) {
    TORCH_CHECK(shape.size() == 3, "cnn: needs image-shaped samples [C, H, W], got ", shape.size(),
                " dimensions (fashion_mnist: shape: image)");
    int64_t in = shape[0], height = shape[1], width = shape[2];
    features_ = register_module("features", torch::nn::Sequential());
    for (int64_t out : options.channels) {
      for (int conv = 0; conv < 2; ++conv) {
        features_->push_back(
            torch::nn::Conv2d(torch::nn::Conv2dOptions(conv == 0 ? in : out, out, 3).padding(1).bias(options.norm == "none")));
        if (options.norm == "batch") features_->push_back(torch::nn::BatchNorm2d(out));
        if (options.norm == "group") features_->push_back(torch::nn::GroupNorm(options.groups, out));
        features_->push_back(torch::nn::ReLU());
      }
      features_->push_back(torch::nn::MaxPool2d(2));
      in = out;
      height /= 2;
      width /= 2;
    }
    TORCH_CHECK(height >= 1 && width >= 1, "cnn: ", options.channels.size(), " pooling stages shrink the ", shape[1],
                "x", shape[2], " image to nothing; use fewer channels entries");
    dense_ = register_module("dense", torch::nn::Linear(in * height * width, options.hidden));
    output_ = register_module("output", torch::nn::Linear(options.hidden, classes));
  }

  torch::Tensor features(const torch::Tensor& x) override {
    TORCH_CHECK(x.dim() == 4, "cnn: x must be [B, C, H, W], got ", x.sizes());
    torch::Tensor h = features_->forward(x).flatten(1);
    h = torch::dropout(h, options_.dropout, is_training());
    return torch::relu(dense_->forward(h));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return output_->forward(torch::dropout(features(x), options_.dropout, is_training()));
  }

 private:
  CnnClassifierOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear dense_{nullptr}, output_{nullptr};
};

}  // namespace

MlpClassifierOptions MlpClassifierOptions::read(config::Node& node) {
  MlpClassifierOptions o;
  o.hidden = node.get<std::vector<int64_t>>("hidden", o.hidden, "hidden layer widths");
  bool positive = true;
  for (int64_t w : o.hidden) positive = positive && w > 0;
  node.expect(positive, "hidden", "a list of positive widths");
  o.activation = node.get_choice("activation", o.activation, activation_names(), "nonlinearity");
  o.dropout = node.get<double>("dropout", o.dropout, "dropout probability after each hidden layer");
  node.expect(o.dropout >= 0 && o.dropout < 1, "dropout", "a number in [0, 1)");
  return o;
}

CnnClassifierOptions CnnClassifierOptions::read(config::Node& node) {
  CnnClassifierOptions o;
  o.channels = node.get<std::vector<int64_t>>("channels", o.channels,
                                              "widths of the conv stages (two 3x3 convs, then 2x2 max pooling, each)");
  bool positive = !o.channels.empty();
  for (int64_t w : o.channels) positive = positive && w > 0;
  node.expect(positive, "channels", "a non-empty list of positive widths");
  o.norm = node.get_choice("norm", o.norm, {"batch", "group", "none"}, "normalisation after each conv");
  o.groups = node.get<int64_t>("groups", o.groups, "group norm: groups per layer");
  bool divides = o.groups > 0;
  for (int64_t w : o.channels) divides = divides && (o.norm != "group" || w % o.groups == 0);
  node.expect(divides, "groups", "an integer > 0 dividing every entry of channels");
  o.hidden = node.get<int64_t>("hidden", o.hidden, "width of the dense layer before the logits");
  node.expect(o.hidden > 0, "hidden", "an integer > 0");
  o.dropout = node.get<double>("dropout", o.dropout, "dropout probability before each dense layer");
  node.expect(o.dropout >= 0 && o.dropout < 1, "dropout", "a number in [0, 1)");
  return o;
}

Registry<Classifier, const SampleShape&, int64_t>& classifier_registry() {
  static Registry<Classifier, const SampleShape&, int64_t> registry("classifiers");
  return registry;
}

void register_builtin_classifiers() {
  classifier_registry().add_component<MlpClassifier, MlpClassifierOptions>(
      "mlp", "multilayer perceptron on flatten(x) with K logits (activation, dropout)");
  classifier_registry().add_component<CnnClassifier, CnnClassifierOptions>(
      "cnn", "small CNN for images [C, H, W]: stages of two 3x3 convs with batch or group norm and 2x2 max pooling, "
             "a dense layer, dropout, K logits");
}

}  // namespace flowlab::nn
