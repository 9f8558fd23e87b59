// The U-Net: DDPM's parameter count, shapes, zero start, conditioning, the energy wrapper, config checks.
#include "flowlab/nn/unet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "flowlab/nn/model.h"
#include "flowlab/nn/residual_energy.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::nn::unet_tests {
namespace {

std::unique_ptr<Network> build(const std::string& yaml, const SampleShape& shape, int64_t outputs = 1,
                               const std::vector<std::string>& overrides = {}) {
  register_builtin_networks();
  config::Node node = config::Node::parse(yaml, "model.yaml");
  for (const auto& o : overrides) node.apply_override(o);
  return network_registry().create(node, shape, outputs);
}

int64_t parameter_count(torch::nn::Module& m) {
  int64_t count = 0;
  for (const auto& p : m.parameters()) count += p.numel();
  return count;
}

// Gives every parameter a random value, so that zero-initialised layers pass signal.
void randomize(torch::nn::Module& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& p : m.parameters()) p.copy_(0.2 * torch::randn(p.sizes(), gen));
}

const char* kSmall =
    "type: unet\nchannels: 8\nchannel_mult: [1, 2]\nnum_res_blocks: 1\nattention_resolutions: [4]\n"
    "groups: 4\ndropout: 0\n";

TEST(UNet, DdpmCifar10NetworkHas35_7MillionParameters) {
  // Ho et al. 2020: "Our CIFAR10 model has 35.7 million parameters"; the exact count of that
  // network (also the independent Python model in scripts/bench/unet_peer.py) is 35,746,307.
  const std::string ddpm =
      "type: unet\nchannels: 128\nchannel_mult: [1, 2, 2, 2]\nnum_res_blocks: 2\nattention_resolutions: [16]\n"
      "dropout: 0.1\nscale_shift: false\n";
  EXPECT_EQ(parameter_count(*build(ddpm, {3, 32, 32})), 35746307);
  // ADM's scale-shift norm doubles each block's embedding projection.
  EXPECT_EQ(parameter_count(*build(ddpm, {3, 32, 32}, 1, {"scale_shift=true"})), 38307203);
}

TEST(UNet, ParameterCountsMatchTheIndependentPythonModel) {
  if (!testing::python_has("torch")) GTEST_SKIP() << "no torch in the oracle Python";
  struct Case {
    std::string yaml, python;
    SampleShape shape;
    int64_t outputs;
  };
  const std::vector<Case> cases{
      {"type: unet\nchannels: 32\nchannel_mult: [1, 2, 2]\nnum_res_blocks: 1\nattention_resolutions: [7]\n",
       "in_channels=1, channels=32, channel_mult=(1, 2, 2), num_res_blocks=1, attention_resolutions=(7,), "
       "image_size=28",
       {1, 28, 28}, 1},
      {"type: unet\nchannels: 16\nchannel_mult: [1, 2, 4]\nnum_res_blocks: 2\nattention_resolutions: [8, 4]\n"
       "head_channels: 8\ngroups: 8\nresblock_updown: true\nnum_classes: 10\n",
       "in_channels=3, channels=16, channel_mult=(1, 2, 4), num_res_blocks=2, attention_resolutions=(8, 4), "
       "image_size=16, head_channels=8, groups=8, resblock_updown=True, num_classes=10, outputs=2",
       {3, 16, 16}, 2},
  };
  for (const Case& c : cases) {
    std::ostringstream script;
    script << "import sys\nsys.path.insert(0, '" << testing::source_dir() << "/scripts/bench')\n"
           << "import unet_peer\nprint(unet_peer.count_parameters(unet_peer.UNet(" << c.python << ")))\n";
    const int64_t python = std::stoll(testing::run_python(script.str()));
    EXPECT_EQ(parameter_count(*build(c.yaml, c.shape, c.outputs)), python) << c.yaml;
  }
}

TEST(UNet, StartsAtZeroWithOneFieldPerOutput) {
  auto net = build(kSmall, {3, 8, 8}, 2);
  const auto x = torch::randn({5, 3, 8, 8});
  const auto out = net->forward(x, torch::rand({5}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 6, 8, 8}));
  EXPECT_EQ(out.abs().max().item<float>(), 0.0f);  // zero-initialised output convolution
  randomize(*net, 1);
  const auto moved = net->forward(x, torch::rand({5}));
  EXPECT_GT(moved.abs().mean().item<float>(), 1e-3);
  EXPECT_FALSE(torch::allclose(moved.slice(1, 0, 3), moved.slice(1, 3, 6)));  // two fields, not copies
}

TEST(UNet, OutputDependsOnTimeAndSampleButNotOnOtherBatchRows) {
  auto net = build(kSmall, {1, 8, 8});
  randomize(*net, 2);
  net->eval();
  const auto x = torch::randn({4, 1, 8, 8});
  const auto t = torch::rand({4});
  const auto out = net->forward(x, t);
  EXPECT_FALSE(torch::allclose(out, net->forward(x, t + 0.1)));
  // GroupNorm and attention act per sample: row 0 alone equals row 0 in the batch.
  EXPECT_TRUE(torch::allclose(out.slice(0, 0, 1), net->forward(x.slice(0, 0, 1), t.slice(0, 0, 1)), 1e-5, 1e-5));
  auto perturbed = x.clone();
  perturbed[3] += 1.0;
  EXPECT_TRUE(torch::allclose(out.slice(0, 0, 3), net->forward(perturbed, t).slice(0, 0, 3), 1e-5, 1e-5));
}

TEST(UNet, ClassConditionalWithANullClass) {
  auto net = build(std::string(kSmall) + "num_classes: 3\n", {1, 8, 8});
  EXPECT_EQ(net->num_classes(), 3);
  randomize(*net, 3);
  net->eval();
  const auto x = torch::randn({3, 1, 8, 8});
  const auto t = torch::full({3}, 0.5);
  const auto by_class = net->forward(x, t, data::Condition{torch::tensor({0, 1, 2}, torch::kLong)});
  const auto same_class = net->forward(x, t, data::Condition{torch::tensor({0, 0, 0}, torch::kLong)});
  EXPECT_TRUE(torch::allclose(by_class[0], same_class[0]));
  EXPECT_FALSE(torch::allclose(by_class[1], same_class[1]));
  // An empty condition asks for the null class.
  EXPECT_TRUE(torch::allclose(net->forward(x, t), net->forward(x, t, data::null_condition(3))));
  EXPECT_THROW(net->forward(x, t, data::Condition{torch::tensor({0, 3, 1}, torch::kLong)}), c10::Error);
  auto unconditional = build(kSmall, {1, 8, 8});
  EXPECT_THROW(unconditional->forward(x, t, data::Condition{torch::tensor({0, 1, 2}, torch::kLong)}), c10::Error);
}

// Without autograd the blocks overwrite their own intermediates (less memory when sampling); the
// field must be bit for bit the one computed with autograd, for every kind of block and both
// time conditionings, and the input must be left as it was.
TEST(UNet, ForwardWithoutAutogradEqualsForwardWithAutograd) {
  for (const std::string extra : {"", "scale_shift: false\n", "resblock_updown: true\nnum_classes: 2\n"}) {
    SCOPED_TRACE(extra);
    auto net = build(std::string(kSmall) + extra, {2, 8, 8}, 2);
    randomize(*net, 4);
    net->eval();
    const auto x = torch::randn({3, 2, 8, 8});
    const auto x_before = x.clone();
    const auto t = torch::rand({3});
    const data::Condition labels =
        net->num_classes() > 0 ? data::Condition{torch::tensor({0, 1, 0}, torch::kLong)} : data::Condition{};
    const auto with_autograd = net->forward(x, t, labels);
    ASSERT_TRUE(with_autograd.requires_grad());
    torch::NoGradGuard no_grad;
    const auto without = net->forward(x, t, labels);
    EXPECT_TRUE(torch::equal(without, with_autograd.detach()));
    EXPECT_TRUE(torch::equal(x, x_before));
  }
}

TEST(UNet, FitsOneBatch) {
  torch::manual_seed(0);
  auto net = build(kSmall, {1, 8, 8});
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(3e-3));
  const auto x = torch::randn({8, 1, 8, 8});
  const auto t = torch::rand({8});
  const auto target = torch::randn({8, 1, 8, 8});
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    adam.zero_grad();
    const auto loss = (net->forward(x, t) - target).pow(2).mean();
    loss.backward();
    adam.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, 0.5 * first);
}

TEST(UNet, EnergyWrapperGivesASymmetricJacobian) {
  // The energy network around a U-Net: field -grad_x |x - f(x, t)|^2 / 2 has the symmetric
  // Jacobian of a Hessian: u . (J v) == v . (J u) for any u, v.
  auto net = build(std::string("type: energy\nnetwork: {") +
                       "type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [4], "
                       "groups: 4, dropout: 0}\n",
                   {1, 8, 8});
  randomize(*net, 4);
  const auto x = torch::randn({2, 1, 8, 8}, torch::kFloat64).requires_grad_(true);
  net->to(torch::kFloat64);
  const auto t = torch::full({2}, 0.3, torch::kFloat64);
  const auto u = torch::randn_like(x), v = torch::randn_like(x);
  const auto field = net->forward(x, t);
  auto jvp_of = [&](const torch::Tensor& w, const torch::Tensor& dual) {
    const auto g = torch::autograd::grad({(field * w).sum()}, {x}, {}, true, true)[0];  // J^T w
    return (g * dual).sum().item<double>();
  };
  const double u_jv = jvp_of(u, v), v_ju = jvp_of(v, u);
  EXPECT_GT(std::abs(u_jv), 1e-3);
  EXPECT_NEAR(u_jv, v_ju, 1e-9 * std::max(1.0, std::abs(u_jv)));
}

TEST(UNet, ConfigErrorsNameTheKey) {
  testing::expect_config_error([] { build(kSmall, {64}); }, {"type", "image"});
  testing::expect_config_error([] { build(kSmall, {1, 12, 12}, 1, {"channel_mult=[1, 2, 2, 2]"}); },
                               {"channel_mult", "multiples of 8"});
  testing::expect_config_error([] { build("type: unet\nchannels: 24\ngroups: 16\n", {1, 16, 16}); },
                               {"groups", "24"});
  testing::expect_config_error([] { build(kSmall, {1, 8, 8}, 1, {"num_heads=3"}); }, {"num_heads"});
  testing::expect_config_error([] { build(kSmall, {1, 8, 8}, 1, {"dropout=1.5"}); }, {"dropout"});
}

}  // namespace
}  // namespace flowlab::nn::unet_tests
