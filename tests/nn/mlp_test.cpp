#include "flowlab/nn/mlp.h"

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

}  // namespace
}  // namespace flowlab::nn
