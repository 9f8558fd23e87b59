#include "flowlab/nn/mlp.h"
#include "flowlab/nn/model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"

namespace flowlab::nn {
namespace {

std::shared_ptr<Network> build(const std::string& yaml, const SampleShape& shape) {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_networks(); });
  config::Node node = config::Node::parse(yaml, "model.yaml");
  std::shared_ptr<Network> net = network_registry().create(node, shape, 1);
  return net;
}

TEST(Mlp, OutputShapedLikeInputForAnySampleShape) {
  auto net = build("type: mlp\nhidden: [32, 32]\n", {1, 4, 4});
  const auto y = net->forward(torch::randn({5, 1, 4, 4}), torch::rand({5}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{5, 1, 4, 4}));
}

TEST(Mlp, ParameterCountMatchesArchitecture) {
  auto net = build("type: mlp\nhidden: [16, 8]\ntime_embedding: {dim: 4}\n", {2});
  int64_t count = 0;
  for (const auto& p : net->parameters()) count += p.numel();
  EXPECT_EQ(count, (6 * 16 + 16) + (16 * 8 + 8) + (8 * 2 + 2));
}

TEST(Mlp, ResidualChangesTheFunction) {
  torch::manual_seed(0);
  auto plain = build("type: mlp\nhidden: [8, 8]\ntime_embedding: {dim: 6}\n", {2});
  torch::manual_seed(0);
  auto residual = build("type: mlp\nhidden: [8, 8]\ntime_embedding: {dim: 6}\nresidual: true\n", {2});
  const auto x = torch::randn({3, 2});
  const auto t = torch::rand({3});
  EXPECT_FALSE(torch::allclose(plain->forward(x, t), residual->forward(x, t)));
}

TEST(Mlp, UnknownKeyAndBadValues) {
  EXPECT_THROW(build("type: mlp\nhiden: [8]\n", {2}), ConfigError);
  EXPECT_THROW(build("type: mlp\nhidden: [0]\n", {2}), ConfigError);
  EXPECT_THROW(build("type: mlp\nactivation: swish\n", {2}), ConfigError);
  EXPECT_THROW(build("type: mlp\ntime_embedding: {dim: 7}\n", {2}), ConfigError);
  EXPECT_THROW(build("type: mlpp\n", {2}), ConfigError);
}

TEST(TimeEmbedding, SinusoidalMatchesFormula) {
  TimeEmbeddingOptions o;
  o.dim = 4;
  o.scale = 2.0;
  o.max_period = 100.0;
  TimeEmbeddingImpl embed(o);
  const auto e = embed.forward(torch::tensor({0.5f}));
  // w = scale * max_period^(-k/2) for k = 0, 1: 2 and 0.2; angles 1.0 and 0.1.
  EXPECT_NEAR(e[0][0].item<float>(), std::sin(1.0), 1e-6);
  EXPECT_NEAR(e[0][1].item<float>(), std::sin(0.1), 1e-6);
  EXPECT_NEAR(e[0][2].item<float>(), std::cos(1.0), 1e-6);
  EXPECT_NEAR(e[0][3].item<float>(), std::cos(0.1), 1e-6);
}

TEST(TimeEmbedding, FourierFrequenciesAreSeededAndSaved) {
  TimeEmbeddingOptions o;
  o.type = "fourier";
  o.dim = 8;
  TimeEmbeddingImpl a(o), b(o);
  const auto t = torch::rand({4});
  EXPECT_TRUE(torch::equal(a.forward(t), b.forward(t)));
  EXPECT_EQ(a.buffers().size(), 1u);
  o.seed = 1;
  TimeEmbeddingImpl c(o);
  EXPECT_FALSE(torch::equal(a.forward(t), c.forward(t)));
}


TEST(Mlp, ClassConditionalNetworkReadsLabelsAndHasANullClass) {
  auto net = build("type: mlp\nhidden: [16]\nnum_classes: 3\ntime_embedding: {dim: 8}\n", {2});
  EXPECT_EQ(net->num_classes(), 3);
  // The class embedding has K + 1 rows (the last: the null class) as wide as the time embedding.
  bool found = false;
  for (const auto& p : net->named_parameters()) {
    if (p.key() == "class_embedding.weight") {
      found = true;
      EXPECT_EQ(p.value().sizes(), torch::IntArrayRef({4, 8}));
    }
  }
  EXPECT_TRUE(found);
  torch::manual_seed(0);
  const auto x = torch::randn({3, 2}).repeat({2, 1});
  const auto t = torch::rand({3}).repeat({2});
  const auto labels = [](std::vector<int64_t> v) { return data::Condition{torch::tensor(v, torch::kLong)}; };
  const auto y = net->forward(x, t, labels({0, 1, 2, 2, 1, 0}));
  // Rows i and i + 3 share x and t: different classes give different outputs, the same class the same.
  EXPECT_FALSE(torch::allclose(y[0], y[3]));
  EXPECT_TRUE(torch::allclose(y[1], y[4]));
  // An empty condition is the null class.
  EXPECT_TRUE(torch::equal(net->forward(x, t), net->forward(x, t, data::null_condition(6))));
  EXPECT_FALSE(torch::allclose(net->forward(x, t), y));
  // Labels out of range, of the wrong type or length are errors, not silent garbage.
  EXPECT_THROW(net->forward(x, t, labels({0, 1, 2, 3, 0, 0})), c10::Error);
  EXPECT_THROW(net->forward(x, t, labels({0, 1, 2, -2, 0, 0})), c10::Error);
  EXPECT_THROW(net->forward(x, t, labels({0, 1})), c10::Error);
  EXPECT_THROW(net->forward(x, t, data::Condition{torch::zeros({6})}), c10::Error);
  // An unconditional network has no class embedding and refuses labels.
  auto plain = build("type: mlp\nhidden: [16]\n", {2});
  EXPECT_EQ(plain->num_classes(), 0);
  for (const auto& p : plain->named_parameters()) EXPECT_EQ(p.key().find("class"), std::string::npos);
  EXPECT_THROW(plain->forward(x, t, labels({0, 1, 2, 2, 1, 0})), c10::Error);
}

TEST(Mlp, NumClassesAutoTakesTheData) {
  config::Node node = config::Node::parse("type: mlp\nnum_classes: auto\n", "model.yaml");
  resolve_num_classes(node, 8);
  EXPECT_EQ(node.get<int64_t>("num_classes", 0), 8);
  config::Node unlabelled = config::Node::parse("type: mlp\nnum_classes: auto\n", "model.yaml");
  EXPECT_THROW(resolve_num_classes(unlabelled, 0), ConfigError);
  config::Node mismatch = config::Node::parse("type: mlp\nnum_classes: 3\n", "model.yaml");
  EXPECT_THROW(resolve_num_classes(mismatch, 8), ConfigError);
  config::Node plain = config::Node::parse("type: mlp\nnum_classes: 0\n", "model.yaml");
  EXPECT_NO_THROW(resolve_num_classes(plain, 8));  // labelled data may train an unconditional model
}

}  // namespace
}  // namespace flowlab::nn
