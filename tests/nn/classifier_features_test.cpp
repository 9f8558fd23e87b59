// Classifiers' penultimate features: the logits are the last linear layer of features(x), in
// eval mode, for both architectures.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/nn/classifier.h"

namespace flowlab::nn {
namespace {

TEST(ClassifierFeatures, LogitsAreTheOutputLayerOfTheFeatures) {
  register_builtin_classifiers();
  struct Case {
    std::string yaml;
    SampleShape shape;
    int64_t width;  // feature width
  };
  const std::vector<Case> cases{
      {"{type: cnn, channels: [4, 8], hidden: 12, dropout: 0.5}", {1, 12, 12}, 12},
      {"{type: mlp, hidden: [10, 6], dropout: 0.5}", {5}, 6},
      {"{type: mlp, hidden: [], dropout: 0.5}", {2, 3}, 6},  // no hidden layer: the input itself
  };
  torch::manual_seed(0);
  for (const Case& c : cases) {
    config::Node node = config::Node::parse(c.yaml, "model.yaml");
    const auto net = classifier_registry().create(node, c.shape, 3);
    net->eval();
    SampleShape batch{7};
    batch.insert(batch.end(), c.shape.begin(), c.shape.end());
    const torch::Tensor x = torch::randn(batch);
    const torch::Tensor features = net->features(x);
    ASSERT_EQ(features.sizes(), (std::vector<int64_t>{7, c.width})) << c.yaml;
    std::shared_ptr<torch::nn::Module> output;
    for (const auto& child : net->named_children()) {
      if (child.key() == "output") output = child.value();
    }
    ASSERT_TRUE(output) << c.yaml;
    const auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(output);
    ASSERT_TRUE(linear) << c.yaml;
    EXPECT_TRUE(torch::allclose(net->forward(x), linear->forward(features), 1e-6, 1e-6)) << c.yaml;
  }
}

}  // namespace
}  // namespace flowlab::nn
