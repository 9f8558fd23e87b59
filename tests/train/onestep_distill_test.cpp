// task: onestep_distill end to end on a Gaussian teacher: the one-step generator's samples
// (NFE 1 through `sample`'s own machinery) take the data's mean and covariance, which the
// teacher's one-step sampler it starts from does not; a distilled run samples without its
// teacher; JS with the discriminator trains; config errors name their keys.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "flowlab/train/evaluation.h"
#include "flowlab/train/onestep_distill_task.h"
#include "flowlab/train/run.h"
#include "flowlab/train/trainer.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

// N(m, S) with m = (1, -2), S = [[1, 0.5], [0.5, 0.5]] (a one-component mixture).
const char* kData =
    "data: {type: gaussian_mixture, dim: 2, means: [1, -2], covariances: [1, 0.5, 0.5, 0.5]}\n";

std::string teacher_yaml(const std::string& dir) {
  return "run: {name: teacher, dir: " + dir + ", seed: 0, threads: 1}\n" + kData +
         "path: {type: cond_ot}\n"
         "model: {type: mlp, hidden: [64, 64], time_embedding: {dim: 16}}\n"
         "objective: {type: flow_matching}\n"
         "train: {steps: 1500, batch_size: 256, optimizer: {type: adam, lr: 2.0e-3}, ema: {decay: 0.99},\n"
         "        log_every: 500, eval_every: 0, checkpoint_every: 0}\n"
         "sample: {solver: heun, steps: 20}\n";
}

std::string student_yaml(const std::string& dir, const std::string& objective, int64_t steps) {
  return "task: onestep_distill\n"
         "run: {name: student, dir: " + dir + ", seed: 1, threads: 1}\n"
         "teacher: {run: " + dir + "/teacher}\n"
         "objective: " + objective + "\n"
         "train: {steps: " + std::to_string(steps) + ", batch_size: 256, optimizer: {type: adam, lr: 1.0e-3},\n"
         "        grad_clip: 0, ema: {decay: 0.9}, log_every: 100, eval_every: 0, checkpoint_every: 0}\n"
         "eval: {metrics: [energy_distance], n: 2000}\n";
}

void train_teacher(const std::string& dir) {
  Experiment teacher(config::Node::parse(teacher_yaml(dir), "teacher.yaml"));
  Trainer(teacher).run(false);
}

struct Moments {
  torch::Tensor mean, covariance;
};
Moments moments(const torch::Tensor& x) {
  const torch::Tensor x64 = x.to(torch::kFloat64);
  const torch::Tensor mean = x64.mean(0);
  const torch::Tensor centred = x64 - mean;
  return {mean, centred.t().matmul(centred) / (x.size(0) - 1)};
}

TEST(OnestepDistill, ReverseKlGeneratorTakesTheTeachersMeanAndCovarianceInOneStep) {
  testing::TempDir dir;
  train_teacher(dir.path());
  const torch::Tensor m = torch::tensor({1.0, -2.0}, torch::kFloat64);
  const torch::Tensor s = torch::tensor({1.0, 0.5, 0.5, 0.5}, torch::kFloat64).view({2, 2});

  config::Node config = config::Node::parse(
      student_yaml(dir.path(), "{type: f_distill, divergence: reverse_kl, gan_weight: 0, fake_score_updates: 2}", 1500),
      "student.yaml");
  Experiment exp(config);
  ASSERT_EQ(exp.sample.solver, "euler");
  ASSERT_EQ(exp.sample.solver_options.steps, 1);
  Trainer trainer(exp);
  // Before training the generator is the teacher's one-step Euler sampler from t = 0: on the
  // conditional-OT path that is E[x1] for every z, a point, not the distribution.
  exp.task->prepare(1);
  const GeneratedSamples start = generate_samples(exp, sampling_model(exp), 4000, 3);
  EXPECT_EQ(start.nfe, 1);
  EXPECT_LT(moments(start.x).covariance.trace().item<double>(), 0.3);
  trainer.run(false);

  const GeneratedSamples samples = generate_samples(exp, sampling_model(exp), 8000, 3);
  EXPECT_EQ(samples.nfe, 1);
  const Moments got = moments(samples.x);
  EXPECT_TRUE(torch::allclose(got.mean, m, 0, 0.1)) << got.mean;
  EXPECT_TRUE(torch::allclose(got.covariance, s, 0, 0.15)) << got.covariance;

  // The saved run samples with the teacher gone: its config holds the teacher's sections.
  std::filesystem::remove_all(dir.path() + "/teacher");
  LoadedRun reopened = load_run(dir.path() + "/student");
  const GeneratedSamples again = generate_samples(*reopened.experiment, sampling_model(*reopened.experiment), 8000, 3);
  EXPECT_TRUE(torch::allclose(again.x, samples.x, 1e-5, 1e-5));
}

// With the reference code's Karras time grid.
TEST(OnestepDistill, JensenShannonTrainsTheDiscriminatorAndWeightsByTheRatio) {
  testing::TempDir dir;
  train_teacher(dir.path());
  config::Node config = config::Node::parse(
      student_yaml(dir.path(),
                   "{type: f_distill, divergence: jensen_shannon, fake_score_updates: 2, time_sampler: karras}", 300),
      "student.yaml");
  Experiment exp(config);
  Trainer(exp).run(false);
  // Every logged line carries the discriminator's loss and the generator's ratio statistics.
  const std::string metrics = testing::read_file(dir.path() + "/student/metrics.jsonl");
  EXPECT_NE(metrics.find("\"discriminator_loss\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\"ratio_mean\""), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("nan"), std::string::npos) << metrics;
  const GeneratedSamples samples = generate_samples(exp, sampling_model(exp), 4000, 3);
  const Moments got = moments(samples.x);
  EXPECT_TRUE(torch::allclose(got.mean, torch::tensor({1.0, -2.0}, torch::kFloat64), 0, 0.3)) << got.mean;
  // Resuming continues from the checkpoint (the ratio bins are part of its state).
  config::Node more = config::Node::parse(
      student_yaml(dir.path(),
                   "{type: f_distill, divergence: jensen_shannon, fake_score_updates: 2, time_sampler: karras}", 310),
      "student.yaml");
  Experiment resumed(more);
  EXPECT_NO_THROW(Trainer(resumed).run(true));
}

TEST(OnestepDistill, ConfigErrorsNameTheKey) {
  testing::TempDir dir;
  train_teacher(dir.path());
  const auto build = [&](const std::string& objective, const std::string& extra = "") {
    Experiment exp(config::Node::parse(student_yaml(dir.path(), objective, 10) + extra, "student.yaml"));
  };
  testing::expect_config_error([&] { build("{type: f_distill, divergence: jensen_shanon}"); },
                               {"objective.divergence", "did you mean 'jensen_shannon'"});
  testing::expect_config_error([&] { build("{type: flow_matching}"); }, {"objective.type", "f_distill"});
  testing::expect_config_error([&] { build("{type: f_distill}", "sample: {solver: heun}\n"); },
                               {"sample.solver", "euler, steps: 1"});
  testing::expect_config_error([&] { build("{type: f_distill, fake_score_updates: 0}"); },
                               {"objective.fake_score_updates", ">= 1"});
  testing::expect_config_error(
      [&] {
        Experiment exp(config::Node::parse(
            "task: onestep_distill\nrun: {name: s, dir: " + dir.path() + "}\nteacher: {run: /nonexistent/run}\n"
            "objective: {type: f_distill}\n",
            "student.yaml"));
      },
      {"teacher.run", "cannot read the teacher's config"});
  // A path other than the teacher's is caught when training starts.
  testing::expect_config_error(
      [&] {
        Experiment exp(config::Node::parse(student_yaml(dir.path(), "{type: f_distill}", 10) + "path: {type: trig}\n",
                                           "student.yaml"));
        Trainer(exp).run(false);
      },
      {"path", "must equal the teacher's path section"});
}

}  // namespace
}  // namespace flowlab::train
