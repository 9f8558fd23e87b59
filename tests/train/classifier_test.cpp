// The classifier task: its scores against independent NumPy and PyTorch computations, and a
// small CNN on Fashion-MNIST that must reach 88% test accuracy on a CPU budget.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/io/npy.h"
#include "flowlab/train/classifier_task.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/run.h"
#include "flowlab/train/trainer.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

// The oracle: accuracy, NLL and 15-bin ECE in NumPy, written from the definitions.
std::string numpy_scores(const std::string& logits_file, const std::string& labels_file) {
  return testing::run_python(
      "import numpy as np\n"
      "z = np.load('" + logits_file + "').astype(np.float64); y = np.load('" + labels_file + "')\n"
      "z = z - z.max(1, keepdims=True); p = np.exp(z); p /= p.sum(1, keepdims=True)\n"
      "conf = p.max(1); pred = p.argmax(1); correct = (pred == y).astype(float)\n"
      "ece = 0.0\n"
      "edges = np.linspace(0, 1, 16)\n"
      "for b in range(15):\n"
      "    lo, hi = edges[b], edges[b + 1]\n"
      "    inside = (conf > lo) & (conf <= hi) if b > 0 else (conf <= hi)\n"
      "    if inside.any(): ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())\n"
      "nll = -np.log(p[np.arange(len(y)), y]).mean()\n"
      "print('%.15g %.15g %.15g' % (correct.mean(), nll, ece))\n");
}

void expect_scores_match_numpy(const torch::Tensor& logits, const torch::Tensor& labels) {
  testing::TempDir dir;
  io::write_npy(dir.file("z.npy"), logits);
  io::write_npy(dir.file("y.npy"), labels);
  std::istringstream oracle(numpy_scores(dir.file("z.npy"), dir.file("y.npy")));
  double accuracy = 0, nll = 0, ece = 0;
  oracle >> accuracy >> nll >> ece;
  const ClassificationScores s = classification_scores(logits, labels);
  EXPECT_NEAR(s.accuracy, accuracy, 1e-12);
  EXPECT_NEAR(s.nll, nll, 1e-9 * std::max(1.0, nll));
  EXPECT_NEAR(s.ece, ece, 1e-9);
}

TEST(ClassificationScores, AccuracyNllAndEceMatchNumpy) {
  at::Generator gen = data::make_generator(3);
  // Confident and unconfident predictions, so every confidence bin is used.
  for (double scale : {0.3, 3.0, 12.0}) {
    const torch::Tensor logits = scale * torch::randn({5000, 10}, gen, torch::kFloat64);
    const torch::Tensor labels = torch::randint(0, 10, {5000}, gen, torch::kLong);
    expect_scores_match_numpy(logits, labels);
  }
  // Closed forms: all right with confidence 1 -> ECE 0; uniform logits -> confidence 1/K.
  const torch::Tensor y = torch::arange(4, torch::kLong);
  EXPECT_NEAR(classification_scores(100.0 * torch::eye(4, torch::kFloat64), y).ece, 0.0, 1e-12);
  const ClassificationScores uniform = classification_scores(torch::zeros({4, 4}, torch::kFloat64), y);
  EXPECT_NEAR(uniform.nll, std::log(4.0), 1e-12);
  EXPECT_NEAR(uniform.accuracy, 0.25, 1e-12);  // ties go to class 0, right for one of four
  EXPECT_NEAR(uniform.ece, 0.0, 1e-12);        // confidence 1/4, accuracy 1/4
}

TEST(ClassificationScores, LabelSmoothingMatchesPytorch) {
  at::Generator gen = data::make_generator(4);
  const torch::Tensor logits = torch::randn({64, 7}, gen, torch::kFloat64);
  const torch::Tensor labels = torch::randint(0, 7, {64}, gen, torch::kLong);
  testing::TempDir dir;
  io::write_npy(dir.file("z.npy"), logits);
  io::write_npy(dir.file("y.npy"), labels);
  const std::string out = testing::run_python(
      "import numpy as np, torch\n"
      "z = torch.from_numpy(np.load('" + dir.file("z.npy") + "')); y = torch.from_numpy(np.load('" +
      dir.file("y.npy") + "'))\n"
      "for s in (0.0, 0.1, 0.4): print('%.15g' % torch.nn.functional.cross_entropy(z, y, label_smoothing=s).item())\n");
  std::istringstream expected(out);
  for (double s : {0.0, 0.1, 0.4}) {
    double value = 0;
    expected >> value;
    EXPECT_NEAR(cross_entropy(logits, labels, s).item<double>(), value, 1e-12) << s;
  }
}

TEST(ClassifierTask, SmallCnnReachesEightyEightPercentOnFashionMnist) {
  testing::TempDir dir;
  config::Node config = config::Node::load_file(testing::source_dir() + "/configs/classifier/fashion_mnist_cnn.yaml");
  // 400 steps of 128 images: under one epoch (measured: 89.1% after 300 steps).
  for (const std::string o : {"run.dir=" + dir.path(), std::string("run.threads=1"), std::string("train.steps=400"),
                              std::string("train.eval_every=0"), std::string("train.log_every=100")}) {
    config.apply_override(o);
  }
  Experiment exp(config);
  Trainer(exp).run(false);
  auto& task = dynamic_cast<ClassifierTask&>(*exp.task);
  const std::map<std::string, double> scores = task.evaluate(1);
  std::cout << "Fashion-MNIST test: accuracy " << scores.at("accuracy") << ", nll " << scores.at("nll") << ", ece "
            << scores.at("ece") << "\n";
  EXPECT_EQ(scores.at("eval_points"), 10000);  // the whole test split
  EXPECT_GE(scores.at("accuracy"), 0.88);
  EXPECT_LT(scores.at("ece"), 0.05);

  // The run reopens as a teacher for another run, with the same predictions; its test-set scores
  // agree with NumPy's on the same logits.
  const std::shared_ptr<nn::Classifier> teacher = load_classifier({exp.run_dir(), std::nullopt}).network;
  EXPECT_FALSE(teacher->is_training());
  const data::Batch test = task.data().rows(0, 1);  // any image: both networks see it alike
  torch::NoGradGuard no_grad;
  task.classifier()->eval();
  EXPECT_TRUE(torch::allclose(teacher->forward(test.x), task.classifier()->forward(test.x)));
  config::Node test_config = config::Node::parse("{type: fashion_mnist, split: test, shape: image}", "test.yaml");
  const auto test_split = data::dataset_registry().create(test_config);
  const data::Batch images = test_split->rows(0, 2000);
  expect_scores_match_numpy(teacher->forward(images.x).to(torch::kFloat64), images.label);
}

TEST(ClassifierTask, ConfigErrorsNameTheKey) {
  testing::TempDir dir;
  const std::string base = "task: classifier\nrun: {name: c, dir: " + dir.path() + ", threads: 1}\n";
  const auto build = [&](const std::string& yaml) {
    return [&base, yaml] { Experiment exp(config::Node::parse(base + yaml, "c.yaml")); };
  };
  testing::expect_config_error(build("data: {type: toy2d, name: swiss_roll}\nmodel: {type: mlp}\n"),
                               {"data.type", "labelled"});
  testing::expect_config_error(build("data: {type: toy2d, name: moons}\nmodel: {type: cnn}\n"), {"image-shaped"});
  testing::expect_config_error(
      build("data: {type: toy2d, name: moons}\nmodel: {type: mlp}\nobjective: {label_smoothing: 1.5}\n"),
      {"objective.label_smoothing"});
  // A toy set trains and scores on fresh draws.
  Experiment exp(config::Node::parse(base + "data: {type: toy2d, name: moons}\nmodel: {type: mlp, hidden: [32]}\n"
                                            "train: {steps: 200, batch_size: 128, eval_every: 0, log_every: 100}\n"
                                            "eval: {n: 2000}\n",
                                     "c.yaml"));
  Trainer(exp).run(false);
  EXPECT_GT(exp.task->evaluate(0).at("accuracy"), 0.9);  // two well separated moons
}

}  // namespace
}  // namespace flowlab::train
