#include "flowlab/train/flat_parameters.h"

#include <gtest/gtest.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "flowlab/builtins.h"
#include "flowlab/train/ema.h"
#include "flowlab/train/optimizer.h"

namespace flowlab::train {
namespace {

torch::nn::Sequential small_net(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(3, 16), torch::nn::SiLU(), torch::nn::Linear(16, 16),
                               torch::nn::SiLU(), torch::nn::Linear(16, 2));
}

torch::Tensor loss_of(torch::nn::Sequential& net, int64_t step) {
  at::Generator gen = at::detail::createCPUGenerator(static_cast<uint64_t>(100 + step));
  const torch::Tensor x = torch::randn({32, 3}, gen, torch::kFloat32);
  return (net->forward(x) - torch::sin(x.narrow(1, 0, 2))).pow(2).mean();
}

std::unique_ptr<torch::optim::Optimizer> flowlab_optimizer(const std::string& yaml,
                                                           const std::vector<torch::Tensor>& params) {
  register_builtins();
  config::Node node = config::Node::parse(yaml, "optimizer.yaml");
  return optimizer_registry().create(node, params);
}

double max_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  }
  return worst;
}

TEST(FlatParameters, PackingKeepsValuesIdentityAndGradients) {
  auto net = small_net(0);
  std::vector<torch::Tensor> params = net->parameters();
  std::vector<torch::Tensor> before;
  for (const auto& p : params) before.push_back(p.detach().clone());
  EXPECT_FALSE(flat_view(params).defined());  // separate allocations
  const torch::TensorImpl* first = params[0].unsafeGetTensorImpl();
  const torch::Tensor buffer = pack_contiguously(params);
  ASSERT_TRUE(buffer.defined());
  EXPECT_EQ(buffer.numel(), 3 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2);
  EXPECT_EQ(net->parameters()[0].unsafeGetTensorImpl(), first);  // the module holds the same tensors
  EXPECT_EQ(max_difference(net->parameters(), before), 0.0);
  const torch::Tensor flat = flat_view(net->parameters());
  ASSERT_TRUE(flat.defined());
  EXPECT_EQ(flat.data_ptr(), buffer.data_ptr());
  // Writing the buffer writes the parameters, and autograd still reaches them.
  buffer.add_(1.0);
  EXPECT_NEAR((net->parameters()[2] - before[2]).mean().item<double>(), 1.0, 1e-6);
  loss_of(net, 0).backward();
  for (const auto& p : net->parameters()) EXPECT_TRUE(p.grad().defined());
  // Gradients pack too, and their flat view is then found again.
  const torch::Tensor grads = flat_gradients(net->parameters());
  ASSERT_TRUE(grads.defined());
  EXPECT_EQ(flat_view(gradients_of(net->parameters())).data_ptr(), grads.data_ptr());
  // Out of order, or one tensor missing, is not one flat range.
  std::vector<torch::Tensor> swapped = net->parameters();
  std::swap(swapped[0], swapped[1]);
  EXPECT_FALSE(flat_view(swapped).defined());
}

// The flat Adam(W) against torch::optim's tensor-by-tensor one on the same losses,
// with weight decay and clipping, over steps that include a learning-rate change.
void expect_matches_torch(const std::string& type, double weight_decay) {
  auto ours = small_net(1), reference = small_net(1);
  std::ostringstream yaml;
  yaml << "type: " << type << "\nlr: 0.01\nweight_decay: " << weight_decay << "\nbetas: [0.8, 0.99]\n";
  auto flat = flowlab_optimizer(yaml.str(), ours->parameters());
  std::unique_ptr<torch::optim::Optimizer> plain;
  if (type == "adamw") {
    plain = std::make_unique<torch::optim::AdamW>(
        reference->parameters(), torch::optim::AdamWOptions(0.01).betas({0.8, 0.99}).weight_decay(weight_decay));
  } else {
    plain = std::make_unique<torch::optim::Adam>(
        reference->parameters(), torch::optim::AdamOptions(0.01).betas({0.8, 0.99}).weight_decay(weight_decay));
  }
  for (int64_t step = 0; step < 30; ++step) {
    const double lr = step < 15 ? 0.01 : 0.003;
    set_learning_rate(*flat, lr);
    set_learning_rate(*plain, lr);
    const double ours_norm = gradient_step(*flat, ours->parameters(), loss_of(ours, step), 0.5).item<double>();
    plain->zero_grad();
    loss_of(reference, step).backward();
    const double reference_norm = torch::nn::utils::clip_grad_norm_(reference->parameters(), 0.5);
    plain->step();
    EXPECT_NEAR(ours_norm, reference_norm, 1e-5 * reference_norm) << "step " << step;
  }
  // The flat path ran: parameters and gradients each lie in one buffer.
  EXPECT_TRUE(flat_view(ours->parameters()).defined());
  EXPECT_TRUE(flat_view(gradients_of(ours->parameters())).defined());
  EXPECT_LT(max_difference(ours->parameters(), reference->parameters()), 2e-6);
  EXPECT_GT(max_difference(ours->parameters(), small_net(1)->parameters()), 0.05);  // it trained
}

TEST(FlatParameters, AdamWMatchesTorchOptim) { expect_matches_torch("adamw", 0.1); }
TEST(FlatParameters, AdamWithL2MatchesTorchOptim) { expect_matches_torch("adam", 0.1); }
TEST(FlatParameters, AdamWithoutDecayMatchesTorchOptim) { expect_matches_torch("adam", 0.0); }

TEST(FlatParameters, SavedStateResumesBitForBit) {
  // Run A: 20 steps. Run B: 10 steps, save, load into a fresh optimizer and network, 10 more.
  auto a = small_net(2);
  auto opt_a = flowlab_optimizer("type: adamw\nlr: 0.01\n", a->parameters());
  for (int64_t step = 0; step < 20; ++step) gradient_step(*opt_a, a->parameters(), loss_of(a, step), 1.0);

  auto b = small_net(2);
  auto opt_b = flowlab_optimizer("type: adamw\nlr: 0.01\n", b->parameters());
  for (int64_t step = 0; step < 10; ++step) gradient_step(*opt_b, b->parameters(), loss_of(b, step), 1.0);
  torch::serialize::OutputArchive net_out, opt_out;
  b->save(net_out);
  opt_b->save(opt_out);
  std::ostringstream net_bytes, opt_bytes;
  net_out.save_to(net_bytes);
  opt_out.save_to(opt_bytes);

  auto c = small_net(3);  // other initial values, overwritten by the load
  auto opt_c = flowlab_optimizer("type: adamw\nlr: 0.01\n", c->parameters());
  torch::serialize::InputArchive net_in, opt_in;
  std::istringstream net_stream(net_bytes.str()), opt_stream(opt_bytes.str());
  net_in.load_from(net_stream);
  opt_in.load_from(opt_stream);
  c->load(net_in);
  opt_c->load(opt_in);
  for (int64_t step = 10; step < 20; ++step) gradient_step(*opt_c, c->parameters(), loss_of(c, step), 1.0);
  EXPECT_EQ(max_difference(c->parameters(), a->parameters()), 0.0);
  EXPECT_TRUE(flat_view(c->parameters()).defined());  // packed again after the load
}

TEST(FlatParameters, TorchOptimCheckpointsLoadIntoTheFlatOptimizer) {
  // State saved by torch::optim::AdamW (older flowlab checkpoints) continues the same run.
  auto a = small_net(4), b = small_net(4);
  torch::optim::AdamW plain(a->parameters(), torch::optim::AdamWOptions(0.01));
  for (int64_t step = 0; step < 8; ++step) {
    plain.zero_grad();
    loss_of(a, step).backward();
    plain.step();
    // The same updates through the flat optimizer's own state would differ in the last bits,
    // so b is set to a's parameters and loads a's optimizer state.
  }
  torch::serialize::OutputArchive out;
  plain.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < a->parameters().size(); ++i) b->parameters()[i].copy_(a->parameters()[i]);
  }
  auto flat = flowlab_optimizer("type: adamw\nlr: 0.01\nweight_decay: 0.01\n", b->parameters());
  torch::serialize::InputArchive in;
  std::istringstream stream(bytes.str());
  in.load_from(stream);
  flat->load(in);
  for (int64_t step = 8; step < 12; ++step) {
    plain.zero_grad();
    loss_of(a, step).backward();
    plain.step();
    gradient_step(*flat, b->parameters(), loss_of(b, step), std::numeric_limits<double>::infinity());
  }
  EXPECT_LT(max_difference(a->parameters(), b->parameters()), 1e-6);
  EXPECT_TRUE(flat_view(b->parameters()).defined());
}

TEST(FlatParameters, ClipGradientNormMatchesTorch) {
  auto a = small_net(5), b = small_net(5);
  loss_of(a, 0).backward();
  loss_of(b, 0).backward();
  const double ours = clip_gradient_norm(a->parameters(), 0.1).item<double>();
  const double reference = torch::nn::utils::clip_grad_norm_(b->parameters(), 0.1);
  EXPECT_NEAR(ours, reference, 1e-6 * reference);
  EXPECT_GT(ours, 0.1);  // so the clipping did something
  EXPECT_LT(max_difference(gradients_of(a->parameters()), gradients_of(b->parameters())), 1e-8);
  // Not clipped below the bound.
  const double again = clip_gradient_norm(a->parameters(), 10.0).item<double>();
  EXPECT_NEAR(again, 0.1, 1e-6);
}

TEST(FlatParameters, FlatEmaEqualsTheTensorByTensorAverage) {
  auto online = small_net(6), ema_flat = small_net(7), ema_plain = small_net(7);
  pack_contiguously(online->parameters());
  ema_update(*ema_flat, *online, 0.9);
  auto unpacked = small_net(6);  // online's values in separate tensors: the per-tensor path
  ema_update(*ema_plain, *unpacked, 0.9);
  EXPECT_TRUE(flat_view(ema_flat->parameters()).defined());
  EXPECT_FALSE(flat_view(ema_plain->parameters()).defined());
  EXPECT_EQ(max_difference(ema_flat->parameters(), ema_plain->parameters()), 0.0);
  const auto expected = 0.9 * small_net(7)->parameters()[0] + 0.1 * small_net(6)->parameters()[0];
  EXPECT_LT((ema_flat->parameters()[0] - expected).abs().max().item<double>(), 1e-6);
}

}  // namespace
}  // namespace flowlab::train
