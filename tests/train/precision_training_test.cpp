// bf16 autocast training and sampling: float32 weights and optimizer state, and the same
// quality as the float32 run (moons, energy distance against fresh data).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/train/evaluation.h"
#include "flowlab/train/trainer.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

config::Node moons_config(const std::string& dir, const std::string& name, const std::string& precision) {
  return config::Node::parse(
      "run: {name: " + name + ", dir: " + dir + ", seed: 3, threads: 1, device: cpu}\n"
      "data: {type: toy2d, name: moons, noise: 0.05}\n"
      "path: {type: cond_ot}\n"
      "model: {type: mlp, hidden: [64, 64, 64], time_embedding: {dim: 32}}\n"
      "objective: {type: flow_matching}\n"
      "train: {steps: 2000, batch_size: 256, precision: " + precision + ",\n"
      "        optimizer: {type: adamw, lr: 2.0e-3}, schedule: {type: cosine, warmup: 100},\n"
      "        ema: {decay: 0.99}, log_every: 1000, eval_every: 0, checkpoint_every: 0}\n"
      "sample: {solver: heun, steps: 30}\n"
      "eval: {metrics: [energy_distance], n: 4000}\n",
      name + ".yaml");
}

TEST(PrecisionTraining, Bf16MoonsMatchFloat32AndKeepFloat32State) {
  testing::TempDir dir;
  Experiment fp32(moons_config(dir.path(), "fp32", "fp32"));
  Trainer(fp32).run(false);
  Experiment bf16(moons_config(dir.path(), "bf16", "bf16"));
  Trainer(bf16).run(false);
  for (const auto& p : bf16.model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
  for (const auto& p : bf16.ema_model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
  EXPECT_EQ(bf16.optimizer->state().size(), bf16.model->parameters().size()) << "an optimizer state per parameter";
  // Not the same weights: the forward really ran in bf16.
  EXPECT_FALSE(torch::allclose(fp32.model->parameters()[0], bf16.model->parameters()[0], 1e-4, 1e-5));

  const double ed_fp32 = evaluate_flow_task(fp32, 7).at("energy_distance");
  const double ed_bf16 = evaluate_flow_task(bf16, 7).at("energy_distance");
  // The float32 model sampled with bf16 network evaluations (sample.precision): float32 samples.
  fp32.sample.precision = Precision::bf16;
  const GeneratedSamples bf16_samples = generate_samples(fp32, sampling_model(fp32), 4000, 7);
  EXPECT_EQ(bf16_samples.x.scalar_type(), torch::kFloat);
  const double ed_bf16_sampling = evaluate(fp32, sampling_model(fp32), bf16_samples, 8).at("energy_distance");
  std::cout << "energy distance: fp32 " << ed_fp32 << ", bf16 training " << ed_bf16 << ", bf16 sampling "
            << ed_bf16_sampling << "\n";
  // Two independent sample sets of the data itself differ by about 0.01 at n = 4000.
  EXPECT_LT(ed_fp32, 0.15) << "the float32 run did not learn moons";  // untrained: about 0.4
  EXPECT_LT(ed_bf16, ed_fp32 + 0.02) << "bf16 training is worse than float32 beyond the margin";
  EXPECT_LT(ed_bf16_sampling, ed_fp32 + 0.02) << "bf16 sampling is worse than float32 beyond the margin";
}

}  // namespace
}  // namespace flowlab::train
