// Energy networks: the field is -grad_x E (finite differences), symmetric Jacobian (asymmetry
// ~ 0 in float64, where an MLP of the same size has plenty), detached under NoGradGuard, and
// trainable through double backpropagation; `energy` makes any network conservative.
#include "flowlab/nn/energy_mlp.h"

#include "flowlab/nn/model.h"
#include "flowlab/nn/residual_energy.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/diagnostics/asymmetry.h"

namespace flowlab::nn {
namespace {

MlpOptions small_options() {
  MlpOptions o;
  o.hidden = {32, 32};
  o.activation = "silu";
  return o;
}

TEST(EnergyMlp, FieldIsMinusTheGradientOfTheEnergy) {
  torch::manual_seed(0);
  EnergyMlp net(small_options(), {3}, 2);
  net.to(torch::kFloat64);
  const auto x = torch::randn({5, 3}, torch::kFloat64);
  const auto t = torch::rand({5}, torch::kFloat64);
  const auto field = net.forward(x, t);
  ASSERT_EQ(field.sizes(), (torch::IntArrayRef{5, 6}));
  const double h = 1e-6;
  for (int64_t i = 0; i < 3; ++i) {
    auto step = torch::zeros_like(x);
    step.select(1, i).fill_(h);
    const auto difference = (net.energy(x + step, t) - net.energy(x - step, t)) / (2 * h);  // [5, 2]
    for (int64_t k = 0; k < 2; ++k) {
      EXPECT_LT((field.select(1, 3 * k + i) + difference.select(1, k)).abs().max().item<double>(), 1e-7);
    }
  }
}

TEST(EnergyMlp, IsConservativeWhereAnMlpIsNot) {
  torch::manual_seed(1);
  EnergyMlp energy(small_options(), {4}, 1);
  Mlp plain(small_options(), {4}, 1);
  energy.to(torch::kFloat64);
  plain.to(torch::kFloat64);
  const auto x = torch::randn({20, 4}, torch::kFloat64);
  const auto t = torch::full({20}, 0.4, torch::kFloat64);
  const auto a_energy = diagnostics::exact_asymmetry([&](const torch::Tensor& y) { return energy.forward(y, t); }, x);
  const auto a_plain = diagnostics::exact_asymmetry([&](const torch::Tensor& y) { return plain.forward(y, t); }, x);
  EXPECT_LT(a_energy.per_point.max().item<double>(), 1e-12);
  EXPECT_GT(a_plain.mean, 0.05);
}

TEST(EnergyMlp, SamplingModeDetachesAndAgrees) {
  torch::manual_seed(2);
  EnergyMlp net(small_options(), {2}, 1);
  const auto x = torch::randn({8, 2});
  const auto t = torch::rand({8});
  const auto recorded = net.forward(x, t);
  EXPECT_TRUE(recorded.requires_grad());
  torch::NoGradGuard no_grad;
  const auto detached = net.forward(x, t);
  EXPECT_FALSE(detached.requires_grad());
  EXPECT_TRUE(torch::allclose(recorded.detach(), detached));
}

// Regressing the field onto -grad of |x - c|^2 / 2 (a gradient field) by double backpropagation.
TEST(EnergyMlp, TrainsByDoubleBackpropagation) {
  torch::manual_seed(3);
  EnergyMlp net(small_options(), {2}, 1);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  const auto centre = torch::tensor({0.5f, -1.0f});
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 300; ++step) {
    const auto x = torch::randn({128, 2});
    const auto t = torch::rand({128});
    const auto loss = (net.forward(x, t) - (centre - x)).pow(2).sum(1).mean();
    adam.zero_grad();
    loss.backward();
    if (step == 0) {
      double norm = 0.0;
      // The output bias shifts E but not its gradient: it alone gets no gradient.
      for (const auto& p : net.parameters()) {
        if (p.grad().defined()) norm += p.grad().pow(2).sum().item<double>();
      }
      EXPECT_GT(norm, 0.0);
      first = loss.item<double>();
    }
    adam.step();
    last = loss.item<double>();
  }
  EXPECT_LT(last, 0.05 * first);
}

// E = |x - f(x, t)|^2 / 2 around an MLP f: -grad E by finite differences, and a symmetric Jacobian.
TEST(ResidualEnergy, MakesAnyNetworkConservative) {
  torch::manual_seed(4);
  ResidualEnergy net(std::make_shared<Mlp>(small_options(), SampleShape{3}, 1));
  net.to(torch::kFloat64);
  const auto x = torch::randn({6, 3}, torch::kFloat64);
  const auto t = torch::rand({6}, torch::kFloat64);
  const auto field = net.forward(x, t);
  const double h = 1e-6;
  for (int64_t i = 0; i < 3; ++i) {
    auto step = torch::zeros_like(x);
    step.select(1, i).fill_(h);
    const auto difference = (net.energy(x + step, t) - net.energy(x - step, t)).squeeze(1) / (2 * h);
    EXPECT_LT((field.select(1, i) + difference).abs().max().item<double>(), 1e-7);
  }
  const auto a = diagnostics::exact_asymmetry([&](const torch::Tensor& y) { return net.forward(y, t); }, x);
  EXPECT_LT(a.per_point.max().item<double>(), 1e-12);
}

TEST(ResidualEnergy, BuildsFromTheModelSection) {
  register_builtin_networks();
  config::Node node = config::Node::parse(
      "type: energy\nnetwork: {type: mlp, hidden: [16]}\npredicts: velocity\nalso_predicts: noise\n", "model.yaml");
  Model model(node, {2});
  const auto out = model.forward(torch::randn({4, 2}), torch::rand({4}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].second.sizes(), (torch::IntArrayRef{4, 2}));
  config::Node nested = config::Node::parse("type: energy\nnetwork: {type: energy}\n", "model.yaml");
  EXPECT_THROW(Model(nested, {2}), ConfigError);
}

}  // namespace
}  // namespace flowlab::nn
