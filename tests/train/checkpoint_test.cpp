// Checkpoint format 3 (named modules, optimizers, generators, task state) and the older
// formats 1 and 2, which must still load.
#include "flowlab/train/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/serialize/archive.h>
#include <torch/torch.h>

#include "flowlab/builtins.h"
#include "flowlab/nn/model.h"
#include "flowlab/train/run.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

std::shared_ptr<nn::Model> small_model(uint64_t seed) {
  register_builtins();
  torch::manual_seed(seed);
  config::Node node = config::Node::parse("type: mlp\nhidden: [8]\ntime_embedding: {dim: 4}\n", "model.yaml");
  return std::make_shared<nn::Model>(node, nn::SampleShape{2});
}

bool same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (const auto& p : pa) {
    if (!torch::equal(p.value(), pb[p.key()])) return false;
  }
  return true;
}

TEST(Checkpoint, FormatThreeRoundTripsEveryNamedPart) {
  testing::TempDir dir;
  auto generator = small_model(1), generator_ema = small_model(2), critic = small_model(3);
  torch::optim::Adam g_opt(generator->parameters(), torch::optim::AdamOptions(1e-3));
  torch::optim::Adam c_opt(critic->parameters(), torch::optim::AdamOptions(2e-3));
  // One step each, so the optimizers have state to restore.
  for (auto* opt : {&g_opt, &c_opt}) {
    opt->zero_grad();
    for (auto& group : opt->param_groups()) {
      for (auto& p : group.params()) p.mutable_grad() = torch::ones_like(p);
    }
    opt->step();
  }
  auto train_gen = at::detail::createCPUGenerator(5), eval_gen = at::detail::createCPUGenerator(6);
  CheckpointParts parts;
  parts.modules = {{"generator", generator, generator_ema}, {"critic", critic, nullptr}};
  parts.optimizers = {{"generator", &g_opt}, {"critic", &c_opt}};
  parts.generators = {{"train", &train_gen}, {"eval", &eval_gen}};
  CheckpointMeta meta;
  meta.step = 42;
  meta.config_yaml = "task: x\n";
  meta.task_state = {{"knots", torch::arange(5, torch::kFloat64)}, {"values", torch::ones({2, 3})}};
  const std::string file = dir.file("c.pt");
  save_checkpoint(file, meta, parts);

  auto g2 = small_model(11), g2_ema = small_model(12), c2 = small_model(13);
  torch::optim::Adam g2_opt(g2->parameters(), torch::optim::AdamOptions(1e-3));
  torch::optim::Adam c2_opt(c2->parameters(), torch::optim::AdamOptions(2e-3));
  auto train2 = at::detail::createCPUGenerator(50), eval2 = at::detail::createCPUGenerator(60);
  CheckpointParts into;
  into.modules = {{"critic", c2, nullptr}, {"generator", g2, g2_ema}};  // any order
  into.optimizers = {{"critic", &c2_opt}, {"generator", &g2_opt}};
  into.generators = {{"eval", &eval2}, {"train", &train2}};
  const CheckpointMeta back = load_checkpoint(file, into);
  EXPECT_EQ(back.format_version, 3);
  EXPECT_EQ(back.step, 42);
  EXPECT_EQ(back.config_yaml, "task: x\n");
  ASSERT_EQ(back.task_state.size(), 2u);
  EXPECT_EQ(back.task_state[0].first, "knots");
  EXPECT_TRUE(torch::equal(back.task_state[1].second, torch::ones({2, 3})));
  EXPECT_TRUE(same_weights(*g2, *generator));
  EXPECT_TRUE(same_weights(*g2_ema, *generator_ema));
  EXPECT_TRUE(same_weights(*c2, *critic));
  EXPECT_TRUE(torch::equal(torch::rand({3}, train2), torch::rand({3}, train_gen)));
  EXPECT_TRUE(torch::equal(torch::rand({3}, eval2), torch::rand({3}, eval_gen)));
  // Adam's moments came back: the next step from the same gradients moves both copies alike.
  for (auto [a, b] : {std::pair{&g_opt, &g2_opt}, std::pair{&c_opt, &c2_opt}}) {
    for (auto* opt : {a, b}) {
      for (auto& group : opt->param_groups()) {
        for (auto& p : group.params()) p.mutable_grad() = torch::full_like(p, 0.5);
      }
      opt->step();
    }
  }
  EXPECT_TRUE(same_weights(*g2, *generator));
  EXPECT_TRUE(same_weights(*c2, *critic));

  // A part the file does not hold is an error that names it.
  CheckpointParts other;
  other.modules = {{"discriminator", small_model(7), nullptr}};
  try {
    load_checkpoint(file, other);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("module 'discriminator'"), std::string::npos) << e.what();
  }
}

// Format 1 (flowlab's first checkpoints) held the network itself, where a Model now holds it
// as its child "network"; written here in that layout, it loads into today's Model.
TEST(Checkpoint, FormatOneLoadsIntoTodaysModel) {
  testing::TempDir dir;
  auto model = small_model(1), ema = small_model(2);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto gen = at::detail::createCPUGenerator(9);
  torch::serialize::OutputArchive archive, network, ema_network, optimizer;
  archive.write("format_version", torch::tensor(int64_t{1}));
  archive.write("step", torch::tensor(int64_t{7}));
  archive.write("config", torch::zeros({0}, torch::kUInt8));
  model->named_children()["network"]->save(network);
  ema->named_children()["network"]->save(ema_network);
  opt.save(optimizer);
  archive.write("model", network);
  archive.write("ema", ema_network);
  archive.write("optimizer", optimizer);
  archive.write("generator", gen.get_state());
  archive.save_to(dir.file("v1.pt"));

  auto restored = small_model(3), restored_ema = small_model(4);
  auto restored_gen = at::detail::createCPUGenerator(1);
  CheckpointParts into;
  into.modules = {{kModelModule, restored, restored_ema}};
  into.generators = {{kTrainingGenerator, &restored_gen}};
  const CheckpointMeta meta = load_checkpoint(dir.file("v1.pt"), into);
  EXPECT_EQ(meta.format_version, 1);
  EXPECT_EQ(meta.step, 7);
  EXPECT_TRUE(same_weights(*restored, *model));
  EXPECT_TRUE(same_weights(*restored_ema, *ema));
  EXPECT_TRUE(torch::equal(torch::rand({3}, restored_gen), torch::rand({3}, gen)));
}

// tests/fixtures/checkpoint_v2: a run written by flowlab with format 2. Its model loads, and a
// newly saved checkpoint of it is format 3 with the same weights.
TEST(Checkpoint, FormatTwoRunLoadsAndResavesAsFormatThree) {
  testing::TempDir dir;
  const std::string run_dir = testing::source_dir() + "/tests/fixtures/checkpoint_v2/v2_run";
  LoadedRun run = load_run(run_dir, {"run.threads=1"});
  EXPECT_EQ(run.step, 20);
  CheckpointParts parts;
  parts.modules = run.experiment->task->modules();
  CheckpointMeta meta;
  meta.step = run.step;
  save_checkpoint(dir.file("v3.pt"), meta, parts);
  auto again = load_run(run_dir, {"run.threads=1"});
  CheckpointParts into;
  into.modules = again.experiment->task->modules();
  torch::NoGradGuard no_grad;
  for (auto& p : again.experiment->model->parameters()) p.zero_();
  EXPECT_EQ(load_checkpoint(dir.file("v3.pt"), into).format_version, 3);
  EXPECT_TRUE(same_weights(*again.experiment->model, *run.experiment->model));
  EXPECT_TRUE(same_weights(*again.experiment->ema_model, *run.experiment->ema_model));
}

}  // namespace
}  // namespace flowlab::train
