#include "flowlab/objectives/flow_matching.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/data/dataset.h"
#include "flowlab/paths/cond_ot.h"

namespace flowlab::objectives {
namespace {

// A network with one parameter: f(x, t) = w * x.
struct ScaledIdentity : nn::Network {
  ScaledIdentity() : nn::Network(1) { w = register_parameter("w", torch::ones({1}) * 0.5); }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor&, const data::Condition& = {}) override {
    return w * x;
  }
  torch::Tensor w;
};

TEST(FlowMatching, LossIsTheMeanSquaredErrorToTheConditionalVelocity) {
  paths::CondOTPath path;
  auto net = std::make_shared<ScaledIdentity>();
  nn::Model model({net}, nn::ModelOptions{});
  FlowMatching objective(FlowMatchingOptions{});
  torch::manual_seed(0);
  const auto x0 = torch::randn({32, 2}), x1 = torch::randn({32, 2}) + 3.0;
  auto gen = data::make_generator(11);
  auto replay = data::make_generator(11);
  const auto loss = objective.loss(model, path, x0, x1, gen);
  const auto t = torch::rand({32}, replay).unsqueeze(1);
  const auto x_t = (1 - t) * x0 + t * x1;
  const auto expected = (0.5 * x_t - (x1 - x0)).pow(2).mean();
  EXPECT_NEAR(loss.item<double>(), expected.item<double>(), 1e-5);
  // Its gradient in w is the analytic one: mean of 2 (w x_t - u) * x_t.
  loss.backward();
  EXPECT_NEAR(net->w.grad().item<double>(), (2 * (0.5 * x_t - (x1 - x0)) * x_t).mean().item<double>(), 1e-4);
}


// Records the labels the objective hands to the network.
struct LabelSpy : nn::Network {
  LabelSpy() : nn::Network(1, 3) { w = register_parameter("w", torch::ones({1})); }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor&, const data::Condition& c = {}) override {
    seen = c.labels;
    return w * x;
  }
  torch::Tensor w, seen;
};

TEST(FlowMatching, LabelDropoutSendsTheShareToTheNullClassAndKeepsTheOthers) {
  paths::CondOTPath path;
  auto spy = std::make_shared<LabelSpy>();
  nn::Model model({spy}, nn::ModelOptions{});
  const int64_t n = 20000;
  const auto x0 = torch::randn({n, 2}), x1 = torch::randn({n, 2});
  const data::Condition labels{torch::randint(0, 3, {n}, torch::kLong)};
  for (double p : {0.0, 0.2}) {
    FlowMatchingOptions options;
    options.label_dropout = p;
    FlowMatching objective(options);
    EXPECT_EQ(objective.trains_unconditional(), p > 0);
    auto gen = data::make_generator(5);
    objective.loss(model, path, x0, x1, gen, labels);
    ASSERT_TRUE(spy->seen.defined());
    const torch::Tensor dropped = spy->seen == data::kNullClass;
    const double share = dropped.to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(share, p, 5 * std::sqrt(0.2 * 0.8 / n) + 1e-12) << p;
    // Kept labels are the data's own.
    EXPECT_TRUE(torch::equal(spy->seen.masked_select(~dropped), labels.labels.masked_select(~dropped)));
  }
  // Without labels (an unconditional batch) nothing is drawn: the stream matches a dropout-free objective.
  FlowMatchingOptions options;
  options.label_dropout = 0.5;
  auto a = data::make_generator(9), b = data::make_generator(9);
  const auto with = FlowMatching(options).loss(model, path, x0, x1, a);
  const auto without = FlowMatching(FlowMatchingOptions{}).loss(model, path, x0, x1, b);
  EXPECT_EQ(with.item<double>(), without.item<double>());
  EXPECT_FALSE(spy->seen.defined());
}

}  // namespace
}  // namespace flowlab::objectives
