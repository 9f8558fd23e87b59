#include "flowlab/nn/mlp.h"
#include "flowlab/nn/model.h"
#include "flowlab/nn/affine_stack.h"

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

TEST(Mlp, MultiplyAddsAreTheLayersWeights) {
  auto net = build("type: mlp\nhidden: [16, 8]\ntime_embedding: {dim: 4}\n", {2});
  EXPECT_EQ(net->multiply_adds_per_sample(), 6 * 16 + 16 * 8 + 8 * 2);
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

// Without autograd the MLP computes in place and folds a batch-wide time into a bias row;
// the field must be the autograd forward's, for shared and per-sample times, every
// activation, residual layers (one of them on the input), labels and the identity embedding.
TEST(Mlp, ForwardWithoutAutogradEqualsTheAutogradForward) {
  const std::vector<std::string> models{
      "type: mlp\nhidden: [32, 32, 32]\n",
      "type: mlp\nhidden: [16, 16]\nactivation: relu\nresidual: true\n",
      "type: mlp\nhidden: [8, 8]\nactivation: tanh\nresidual: true\ntime_embedding: {dim: 6}\n",
      "type: mlp\nhidden: [16, 16]\nactivation: gelu\ntime_embedding: {type: identity}\n",
      "type: mlp\nhidden: [16]\nactivation: softplus\ntime_embedding: {type: fourier, dim: 8}\n",
      "type: mlp\nhidden: [16, 16]\nnum_classes: 3\ntime_embedding: {dim: 8}\n"};
  for (const std::string& yaml : models) {
    torch::manual_seed(1);
    auto net = build(yaml, {2});
    const torch::Tensor x = torch::randn({7, 2});
    for (const torch::Tensor& t : {torch::full({7}, 0.3f), torch::rand({7}), torch::full({1}, 0.7f).expand({7})}) {
      const data::Condition c = net->num_classes() > 0
                                    ? data::Condition{torch::tensor(std::vector<int64_t>{0, 1, 2, -1, 0, 1, 2})}
                                    : data::Condition{};
      const torch::Tensor with_graph = net->forward(x, t, c);
      ASSERT_TRUE(with_graph.requires_grad());
      torch::Tensor without;
      {
        torch::NoGradGuard no_grad;
        const torch::Tensor x_copy = x.clone();
        without = net->forward(x_copy, t, c);
        EXPECT_TRUE(torch::equal(x_copy, x)) << "the input is not overwritten";
      }
      EXPECT_FALSE(without.requires_grad());
      EXPECT_TRUE(torch::allclose(without, with_graph.detach(), 1e-5, 1e-6)) << yaml << (without - with_graph).abs().max();
    }
  }
}

// Training runs the layers as one autograd node (affine_stack); its gradients must be the
// ordinary graph's: for the weights, for an input that needs them (class embeddings), and
// second derivatives through create_graph.
TEST(Mlp, OneNodeStackHasTheGradientsOfTheOrdinaryGraph) {
  for (const std::string activation : {"silu", "relu", "gelu", "tanh", "softplus"}) {
    torch::manual_seed(3);
    std::vector<AffineLayer> layers;
    for (const auto& [in, out, residual] : std::vector<std::tuple<int64_t, int64_t, bool>>{
             {5, 5, true}, {5, 7, false}, {7, 7, true}, {7, 3, false}}) {
      layers.push_back({torch::randn({out, in}, torch::requires_grad()), torch::randn({out}, torch::requires_grad()),
                        out != 3, residual});
    }
    const torch::Tensor input = torch::randn({6, 5}, torch::requires_grad());
    const torch::Tensor weights = torch::randn({6, 3});
    std::vector<torch::Tensor> all{input};
    for (const auto& l : layers) {
      all.push_back(l.weight);
      all.push_back(l.bias);
    }
    // Reference: the same stack as separate autograd operations.
    torch::Tensor h = input;
    for (const auto& l : layers) {
      torch::Tensor next = torch::nn::functional::linear(h, l.weight, l.bias);
      if (l.activated) next = activate(activation, next);
      h = l.residual ? h + next : next;
    }
    const torch::Tensor reference = h;
    const torch::Tensor fused = affine_stack(input, layers, activation);
    ASSERT_TRUE(fused.grad_fn() != nullptr);
    EXPECT_NE(fused.grad_fn()->name(), reference.grad_fn()->name());  // really one other node
    EXPECT_TRUE(torch::allclose(fused, reference, 1e-6, 1e-6)) << activation;
    const auto g_ref = torch::autograd::grad({(reference * weights).sum()}, all, {}, true, true);
    const auto g_fused = torch::autograd::grad({(fused * weights).sum()}, all, {}, true, true);
    for (std::size_t i = 0; i < all.size(); ++i) {
      EXPECT_TRUE(torch::allclose(g_fused[i], g_ref[i], 1e-5, 1e-6)) << activation << " tensor " << i;
      EXPECT_TRUE(g_fused[i].is_contiguous());
    }
    // Second order: d/dtheta of |d loss / d input|^2 through create_graph.
    const auto h_ref = torch::autograd::grad({g_ref[0].pow(2).sum()}, {layers[1].weight, input});
    const auto h_fused = torch::autograd::grad({g_fused[0].pow(2).sum()}, {layers[1].weight, input});
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_TRUE(torch::allclose(h_fused[i], h_ref[i], 1e-4, 1e-5)) << activation << " second order " << i;
    }
  }
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
  {
    torch::NoGradGuard no_grad;  // the sampling path refuses them too
    EXPECT_THROW(plain->forward(x, t, labels({0, 1, 2, 2, 1, 0})), c10::Error);
    EXPECT_THROW(plain->forward(x, torch::full({6}, 0.5f), labels({0, 1, 2, 2, 1, 0})), c10::Error);
  }
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
