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
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor&) override { return w * x; }
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

}  // namespace
}  // namespace flowlab::objectives
