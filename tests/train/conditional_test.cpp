// Class-conditional flow matching with classifier-free guidance on labelled eight Gaussians: the
// model samples class K inside Gaussian K, and guidance W > 1 sharpens the classes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/train/evaluation.h"
#include "flowlab/train/trainer.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Share of samples whose closest of the eight centres is their own class's, per class.
std::vector<double> own_centre_share(const torch::Tensor& x, const torch::Tensor& labels) {
  const torch::Tensor angle = torch::arange(8, torch::kFloat32) * (kPi / 4.0);
  const torch::Tensor centres = 2.0 * torch::stack({torch::cos(angle), torch::sin(angle)}, 1);
  const torch::Tensor closest = torch::cdist(x, centres).argmin(1);
  std::vector<double> share;
  for (int64_t k = 0; k < 8; ++k) {
    const torch::Tensor mine = labels == k;
    share.push_back((closest == k).logical_and(mine).sum().item<double>() / mine.sum().item<double>());
  }
  return share;
}

TEST(ConditionalFlow, SamplesEachClassInItsGaussianAndGuidanceSharpensThem) {
  testing::TempDir dir;
  // Noise 0.35 makes the Gaussians overlap a little: about 97% of the data lies closest to its
  // own centre, so a sharper (guided) model has room to show.
  config::Node config = config::Node::parse(
      "run: {name: cond, dir: " + dir.path() + ", seed: 0, threads: 1}\n"
      "data: {type: toy2d, name: eight_gaussians, noise: 0.35}\n"
      "path: {type: cond_ot}\n"
      "model: {type: mlp, hidden: [128, 128], num_classes: auto, time_embedding: {dim: 32}}\n"
      "objective: {type: flow_matching, label_dropout: 0.2}\n"
      "train: {steps: 2500, batch_size: 256, optimizer: {type: adam, lr: 2.0e-3},\n"
      "        schedule: {type: cosine, warmup: 100}, ema: {decay: 0.995}, log_every: 500,\n"
      "        eval_every: 0, checkpoint_every: 0}\n"
      "sample: {solver: heun, steps: 40}\n",
      "conditional.yaml");
  Experiment exp(config);
  ASSERT_EQ(exp.model->num_classes(), 8);
  Trainer(exp).run(false);
  nn::Model& model = sampling_model(exp);

  auto gen = data::make_generator(5);
  const data::Batch reference = exp.data->sample(16000, gen);
  const auto data_share = own_centre_share(reference.x, reference.label);

  const int64_t n = 16000;  // 2000 per class: a share's standard error is below 0.004
  exp.sample.class_mode = "all";
  exp.sample.guidance = 1.0;
  const GeneratedSamples plain = generate_samples(exp, model, n, 11);
  ASSERT_TRUE(plain.labels.defined());
  EXPECT_TRUE(torch::equal(plain.labels, torch::arange(n, torch::kLong) % 8));
  const auto plain_share = own_centre_share(plain.x, plain.labels);
  exp.sample.guidance = 3.0;
  const GeneratedSamples sharp = generate_samples(exp, model, n, 11);
  const auto sharp_share = own_centre_share(sharp.x, sharp.labels);
  double plain_mean = 0, sharp_mean = 0;
  for (int64_t k = 0; k < 8; ++k) {
    std::cout << "class " << k << ": data " << data_share[k] << ", W = 1 " << plain_share[k] << ", W = 3 "
              << sharp_share[k] << "\n";
    EXPECT_GE(plain_share[k], 0.9) << "class " << k;
    plain_mean += plain_share[k] / 8;
    sharp_mean += sharp_share[k] / 8;
  }
  EXPECT_GT(sharp_mean, plain_mean + 0.01);

  // dopri5 evaluates only the samples still integrating, each with its own class: the same
  // samples as Heun's from the same source draws, to Heun's discretisation error.
  exp.sample.guidance = 1.0;
  exp.sample.solver = "dopri5";
  exp.sample.solver_options.atol = exp.sample.solver_options.rtol = 1e-5;
  const GeneratedSamples adaptive = generate_samples(exp, model, 800, 11);
  exp.sample.solver = "heun";
  EXPECT_GT(adaptive.rejected + adaptive.nfe, 0);
  EXPECT_LT((adaptive.x - plain.x.slice(0, 0, 800)).abs().max().item<double>(), 0.05);
  // The likelihood of labelled points, also through dopri5: each point's own class, or its
  // density under another class (far lower: the Gaussians barely overlap).
  const data::Batch points = exp.data->sample(64, gen);
  const double own = estimate_nll(exp, model, points.x, 31, points.label).nll;
  const double other = estimate_nll(exp, model, points.x, 31, (points.label + 4) % 8).nll;
  exp.eval.likelihood.solver = "rk4";  // every row at every step: no subsets
  exp.eval.likelihood.solver_options.steps = 200;
  const double fixed_steps = estimate_nll(exp, model, points.x, 31, points.label).nll;
  exp.eval.likelihood.solver = "dopri5";
  std::cout << "nll with own labels " << own << " (rk4 " << fixed_steps << "), with the opposite class " << other
            << "\n";
  EXPECT_NEAR(own, fixed_steps, 1e-3);
  EXPECT_LT(own + 3.0, other);

  // Listed classes: sample i gets class[i mod m]; the unconditional model (W = 0, or classes none)
  // spreads over all eight Gaussians.
  exp.sample.guidance = 1.0;
  exp.sample.classes = {3, 6};
  const GeneratedSamples listed = generate_samples(exp, model, 4000, 12);
  EXPECT_TRUE(torch::equal(listed.labels, torch::tensor({3, 6}, torch::kLong).repeat({2000})));
  EXPECT_GE(own_centre_share(listed.x, listed.labels)[3], 0.9);
  exp.sample.classes.clear();
  exp.sample.class_mode = "none";
  const GeneratedSamples free = generate_samples(exp, model, 8000, 13);
  EXPECT_TRUE((free.labels == data::kNullClass).all().item<bool>());
  const torch::Tensor angle = torch::atan2(free.x.select(1, 1), free.x.select(1, 0));
  const torch::Tensor sector = torch::remainder(torch::round(angle / (kPi / 4.0)), 8.0);
  for (int64_t k = 0; k < 8; ++k) {
    EXPECT_NEAR((sector == k).to(torch::kFloat64).mean().item<double>(), 0.125, 0.03) << "sector " << k;
  }

  // Evaluation compares class-conditional samples with data of the same classes: samples of
  // classes 3 and 6 are close to data of those classes, far from the whole data set.
  const double all_classes = evaluate(exp, model, plain, 21).at("energy_distance");
  const double matched = score_samples(exp, listed, 22).at("energy_distance");
  GeneratedSamples unlabelled = listed;
  unlabelled.labels = torch::Tensor();
  const double unmatched = score_samples(exp, unlabelled, 22).at("energy_distance");
  std::cout << "energy distance: all classes " << all_classes << ", classes 3 and 6 against their data " << matched
            << ", against all data " << unmatched << "\n";
  EXPECT_LT(all_classes, 0.02);
  EXPECT_LT(matched, 0.05);
  EXPECT_GT(unmatched, 5 * matched);
}

TEST(ConditionalFlow, ConfigErrorsNameTheKey) {
  testing::TempDir dir;
  const std::string base = "run: {name: c, dir: " + dir.path() + ", threads: 1}\n"
                           "path: {type: cond_ot}\nobjective: {type: flow_matching}\n";
  const auto build = [&](const std::string& yaml) {
    return [&base, yaml] { Experiment exp(config::Node::parse(base + yaml, "c.yaml")); };
  };
  // Guidance needs the unconditional field, learnt only with label dropout.
  testing::expect_config_error(
      build("data: {type: toy2d, name: moons}\nmodel: {type: mlp, num_classes: auto}\nsample: {guidance: 2}\n"),
      {"sample.guidance", "label_dropout"});
  testing::expect_config_error(build("data: {type: toy2d, name: moons}\nmodel: {type: mlp}\nsample: {class: [1]}\n"),
                               {"sample.class", "unconditional"});
  testing::expect_config_error(
      build("data: {type: toy2d, name: moons}\nmodel: {type: mlp, num_classes: auto}\nsample: {class: [2]}\n"),
      {"sample.class", "class 2"});
  testing::expect_config_error(build("data: {type: toy2d, name: swiss_roll}\nmodel: {type: mlp, num_classes: auto}\n"),
                               {"model.num_classes", "labelled"});
  testing::expect_config_error(build("data: {type: toy2d, name: moons}\nmodel: {type: mlp, num_classes: 3}\n"),
                               {"model.num_classes", "2 classes"});
}

}  // namespace
}  // namespace flowlab::train
