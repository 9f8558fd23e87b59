#include "flowlab/builtins.h"
#include "flowlab/train/optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/train/checkpoint.h"
#include "flowlab/train/ema.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

std::unique_ptr<LrSchedule> schedule(const std::string& yaml) {
  register_builtins();
  config::Node node = config::Node::parse(yaml, "schedule.yaml");
  return schedule_registry().create(node);
}

TEST(Schedules, ConstantWarmupAndCosineFollowTheirFormulas) {
  EXPECT_DOUBLE_EQ(schedule("type: constant\n")->factor(123, 1000), 1.0);
  auto warmup = schedule("type: warmup\nwarmup: 10\n");
  EXPECT_DOUBLE_EQ(warmup->factor(0, 100), 0.1);
  EXPECT_DOUBLE_EQ(warmup->factor(4, 100), 0.5);
  EXPECT_DOUBLE_EQ(warmup->factor(50, 100), 1.0);
  auto cosine = schedule("type: cosine\nwarmup: 10\nmin_factor: 0.1\n");
  EXPECT_DOUBLE_EQ(cosine->factor(9, 110), 1.0);
  EXPECT_DOUBLE_EQ(cosine->factor(10, 110), 1.0);
  // Halfway through the decay: min + (1 - min) * (1 + cos(pi / 2)) / 2.
  EXPECT_NEAR(cosine->factor(60, 110), 0.1 + 0.9 * 0.5, 1e-12);
  EXPECT_NEAR(cosine->factor(110, 110), 0.1, 1e-12);
  EXPECT_THROW(schedule("type: cosine\nwarmup: -1\n"), ConfigError);
  EXPECT_THROW(schedule("type: cosinus\n"), ConfigError);
}

TEST(Schedules, StepDecaysByGammaEveryStepSize) {
  // The interpolants paper's StepLR(1500, 0.4).
  auto step = schedule("type: step\nstep_size: 1500\ngamma: 0.4\n");
  EXPECT_DOUBLE_EQ(step->factor(0, 7000), 1.0);
  EXPECT_DOUBLE_EQ(step->factor(1499, 7000), 1.0);
  EXPECT_DOUBLE_EQ(step->factor(1500, 7000), 0.4);
  EXPECT_NEAR(step->factor(6999, 7000), 0.4 * 0.4 * 0.4 * 0.4, 1e-15);
  EXPECT_THROW(schedule("type: step\ngamma: 0\n"), ConfigError);
  EXPECT_THROW(schedule("type: step\nstep_size: 0\n"), ConfigError);
}

TEST(Optimizers, BuildFromConfigAndSetLearningRate) {
  register_builtins();
  auto w = torch::zeros({3}, torch::requires_grad());
  config::Node node = config::Node::parse("type: adamw\nlr: 0.01\nweight_decay: 0.0\n", "opt.yaml");
  auto opt = optimizer_registry().create(node, {w});
  EXPECT_DOUBLE_EQ(learning_rate(*opt), 0.01);
  set_learning_rate(*opt, 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(*opt), 0.5);
  // One Adam step moves each coordinate by lr against the gradient's sign.
  (w * torch::tensor({1.0f, -2.0f, 3.0f})).sum().backward();
  opt->step();
  EXPECT_TRUE(torch::allclose(w.detach(), torch::tensor({-0.5f, 0.5f, -0.5f}), 1e-5, 1e-5)) << w;
  config::Node bad = config::Node::parse("type: adam\nbetas: [0.9]\n", "opt.yaml");
  EXPECT_THROW(optimizer_registry().create(bad, {w}), ConfigError);
}

TEST(Ema, UpdateIsTheConvexCombination) {
  torch::nn::Linear online(2, 2), ema(2, 2);
  copy_weights(*ema, *online);
  EXPECT_TRUE(torch::equal(ema->weight, online->weight));
  const auto before = ema->weight.detach().clone();
  {
    torch::NoGradGuard no_grad;
    online->weight.add_(1.0);
  }
  ema_update(*ema, *online, 0.9);
  EXPECT_TRUE(torch::allclose(ema->weight, 0.9 * before + 0.1 * online->weight.detach()));
}

TEST(Checkpoints, KeepLastPrunesOldestAndListsInStepOrder) {
  testing::TempDir dir;
  torch::nn::Linear model(2, 2), ema(2, 2);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto gen = at::detail::createCPUGenerator(3);
  CheckpointParts parts;
  parts.modules = {{"net", model.ptr(), ema.ptr()}};
  parts.optimizers = {{"adam", &opt}};
  parts.generators = {{kTrainingGenerator, &gen}};
  for (int64_t step : {5, 10, 100, 1000}) {
    CheckpointMeta meta;
    meta.step = step;
    meta.config_yaml = "a: 1\n";
    save_checkpoint(checkpoint_file(dir.path(), step), meta, parts);
  }
  prune_checkpoints(dir.path(), 2);
  const auto files = list_checkpoints(dir.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], checkpoint_file(dir.path(), 100));
  EXPECT_EQ(latest_checkpoint(dir.path()), checkpoint_file(dir.path(), 1000));
  torch::nn::Linear restored(2, 2);
  auto restored_gen = at::detail::createCPUGenerator(99);
  CheckpointParts into;
  into.modules = {{"net", nullptr, restored.ptr()}};  // the EMA copy only
  into.generators = {{kTrainingGenerator, &restored_gen}};
  const CheckpointMeta meta = load_checkpoint(files[1], into);
  EXPECT_EQ(meta.format_version, 3);
  EXPECT_EQ(meta.step, 1000);
  EXPECT_EQ(meta.config_yaml, "a: 1\n");
  EXPECT_TRUE(torch::equal(restored->weight, ema->weight));
  EXPECT_TRUE(torch::equal(torch::rand({4}, restored_gen), torch::rand({4}, gen)));
}

}  // namespace
}  // namespace flowlab::train
