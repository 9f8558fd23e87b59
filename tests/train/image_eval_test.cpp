// Evaluation of image models: bits/dim with uniform dequantisation against the closed form of
// the identity flow, sample metrics in a classifier's feature space on the test split, the
// feature classifier's accuracy on class-conditional samples, and the config checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/ot/metric.h"
#include "flowlab/train/classifier_task.h"
#include "flowlab/train/evaluation.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/trainer.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)

// A fresh class-conditional U-Net on Fashion-MNIST: its zero-initialised output makes the
// velocity exactly 0, so the flow is the identity and rho_1 is the source N(0, I).
std::string unet_run(const testing::TempDir& dir, const std::string& more = "") {
  return "run: {name: images, dir: " + dir.path() + ", seed: 0, threads: 1}\n"
         "data: {type: fashion_mnist, split: train, shape: image}\n"
         "path: {type: cond_ot}\n"
         "model: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [],\n"
         "        groups: 4, dropout: 0, num_classes: auto}\n"
         "objective: {type: flow_matching, label_dropout: 0.1}\n"
         "train: {steps: 1, batch_size: 4, log_every: 1, eval_every: 0, checkpoint_every: 0}\n"
         "sample: {solver: euler, steps: 2, batch_size: 16}\n" + more;
}

// -log N(x; 0, I) per point of x [n, ...], float64.
torch::Tensor gaussian_nll(const torch::Tensor& x) {
  const torch::Tensor flat = x.flatten(1).to(torch::kFloat64);
  return 0.5 * flat.pow(2).sum(1) + 0.5 * static_cast<double>(flat.size(1)) * kLog2Pi;
}

TEST(ImageEvaluation, BitsPerDimOfTheIdentityFlowIsTheDequantisedGaussianClosedForm) {
  testing::TempDir dir;
  const int64_t n = 8, d = 784;
  for (const char* range : {"minus_one_to_one", "zero_to_one"}) {
    const double step = std::string(range) == "zero_to_one" ? 1.0 / 255.0 : 1.0 / 127.5;
    for (const char* dequantize : {"none", "uniform"}) {
      config::Node config = config::Node::parse(
          unet_run(dir, std::string("eval: {metrics: [nll], n: 8, dequantize: ") + dequantize +
                            ", likelihood: {divergence: hutchinson, solver: euler, steps: 2}}\n"),
          "images.yaml");
      config.apply_override(std::string("data.pixel_range=") + range);
      Experiment exp(config);
      ASSERT_TRUE(exp.held_out);
      EXPECT_EQ(exp.held_out->size(), 10000);  // nll is measured on the test split
      EXPECT_DOUBLE_EQ(exp.data->quantisation_step(), step);
      const std::map<std::string, double> scores = evaluate(exp, *exp.model, GeneratedSamples{}, 7);
      const torch::Tensor x = exp.held_out->rows(0, n).x.to(torch::kFloat64);
      double expected = gaussian_nll(x).mean().item<double>();
      double tolerance = 1e-9 * expected;
      if (std::string(dequantize) == "uniform") {
        // E over u ~ U[0, 1) of (x + u s)^2 = x^2 + x s + s^2 / 3 per coordinate; the draw's own
        // spread over 784 coordinates and 8 points is about 0.01 nats.
        expected += 0.5 * (x.flatten(1) * step + step * step / 3.0).sum(1).mean().item<double>();
        tolerance = 0.05;
      }
      EXPECT_NEAR(scores.at("nll"), expected, tolerance) << range << " " << dequantize;
      // bpd of the discrete pixels: nll / (d ln 2) + log2(1 / step); without dequantisation, of the density.
      const double offset = std::string(dequantize) == "uniform" ? std::log2(1.0 / step) : 0.0;
      EXPECT_NEAR(scores.at("bpd"), scores.at("nll") / (d * std::log(2.0)) + offset, 1e-12) << range << dequantize;
    }
  }
}

// A small CNN classifier run, a few steps: the feature network.
std::string train_classifier(const testing::TempDir& dir, const std::string& pixel_range = "minus_one_to_one") {
  config::Node config = config::Node::parse(
      "task: classifier\n"
      "run: {name: features_" + pixel_range + ", dir: " + dir.path() + ", seed: 0, threads: 1}\n"
      "data: {type: fashion_mnist, split: train, shape: image, pixel_range: " + pixel_range + "}\n"
      "model: {type: cnn, channels: [8], hidden: 16, dropout: 0}\n"
      "train: {steps: 20, batch_size: 32, optimizer: {type: adam, lr: 3.0e-3}, log_every: 10, eval_every: 0,\n"
      "        checkpoint_every: 0}\n"
      "eval: {n: 100}\n",
      "classifier.yaml");
  Experiment exp(config);
  Trainer(exp).run(false);
  return exp.run_dir();
}

TEST(ImageEvaluation, MetricsCompareClassifierFeaturesOfSamplesAndTestImages) {
  testing::TempDir dir;
  const std::string features_run = train_classifier(dir);
  config::Node config = config::Node::parse(
      unet_run(dir, "eval: {metrics: [energy_distance, class_accuracy], n: 40, features: {run: " + features_run +
                        "}}\n"),
      "images.yaml");
  Experiment exp(config);
  ASSERT_TRUE(exp.feature_network);
  // "Samples": test images 100.. of known classes, so both scores have a value to check.
  const data::Batch images = exp.held_out->rows(100, 160);
  GeneratedSamples samples;
  samples.x = images.x;
  samples.labels = images.label.clone();
  samples.labels.index_put_({torch::arange(0, 60, 3)}, data::kNullClass);  // every third unconditional
  const std::map<std::string, double> scores = score_samples(exp, samples, 3);

  torch::NoGradGuard no_grad;
  nn::Classifier& net = *exp.feature_network;
  net.eval();
  const torch::Tensor conditional = samples.labels >= 0;
  const torch::Tensor predicted = net.forward(images.x.index({conditional})).argmax(1);
  EXPECT_DOUBLE_EQ(scores.at("class_accuracy"),
                   predicted.eq(images.label.index({conditional})).to(torch::kFloat64).mean().item<double>());
  // The reference: the first test images of each sample's class (any class for the null class).
  const torch::Tensor reference = data::rows_of_classes(*exp.held_out, samples.labels);
  config::Node none = config::Node::parse("{}", "metric");
  const auto energy = ot::metric_registry().create("energy_distance", none);
  auto gen = data::make_generator(0);
  const double expected = energy->compute(net.features(samples.x).to(torch::kFloat64),
                                          net.features(reference).to(torch::kFloat64), gen);
  EXPECT_NEAR(scores.at("energy_distance"), expected, 1e-6 * std::max(1.0, expected));  // float32 features, chunked
  // In pixel space the number differs: the metric did look at features.
  const double pixels = energy->compute(samples.x.flatten(1).to(torch::kFloat64),
                                        reference.flatten(1).to(torch::kFloat64), gen);
  EXPECT_GT(std::abs(pixels - expected), 1e-3 * std::max(pixels, expected));
}

TEST(ImageEvaluation, ConfigErrorsNameTheKey) {
  testing::TempDir dir;
  const auto build = [&dir](const std::string& eval) {
    Experiment exp(config::Node::parse(unet_run(dir, eval), "images.yaml"));
  };
  testing::expect_config_error([&] { build("eval: {metrics: [class_accuracy]}\n"); },
                               {"eval.metrics", "class_accuracy needs eval.features"});
  const std::string zero_to_one = train_classifier(dir, "zero_to_one");
  testing::expect_config_error([&] { build("eval: {metrics: [sliced_w2], features: {run: " + zero_to_one + "}}\n"); },
                               {"eval.features.run", "pixel_range zero_to_one"});
  testing::expect_error([&] { build("eval: {features: {run: " + dir.file("missing") + "}}\n"); },
                        {"missing", "not a flowlab run directory"});
  testing::expect_config_error([&] { build("eval: {dequantize: yes}\n"); }, {"eval.dequantize", "uniform"});
}

}  // namespace
}  // namespace flowlab::train
