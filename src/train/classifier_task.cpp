#include "flowlab/train/classifier_task.h"

#include <torch/torch.h>

#include <cmath>

#include "flowlab/core/error.h"
#include "flowlab/train/checkpoint.h"
#include "flowlab/train/ema.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/run.h"

namespace flowlab::train {
namespace {

ClassifierEvalOptions read_eval_options(config::Node& node) {
  ClassifierEvalOptions o;
  o.n = node.get<int64_t>("n", o.n, "held-out points scored (a finite set: its first n)");
  node.expect(o.n >= 1, "n", "an integer >= 1");
  o.batch_size = node.get<int64_t>("batch_size", o.batch_size, "points per forward pass");
  node.expect(o.batch_size >= 1, "batch_size", "an integer >= 1");
  o.bins = node.get<int64_t>("bins", o.bins, "confidence bins of the expected calibration error");
  node.expect(o.bins >= 1, "bins", "an integer >= 1");
  o.use_ema = node.get<bool>("use_ema", o.use_ema, "score the EMA copy of the weights");
  return o;
}

// Seeds of the held-out draws of endless datasets, offset from the evaluation seed.
constexpr uint64_t kHeldOutSeedOffset = 0xe7a1;

}  // namespace

ClassifierTask::ClassifierTask(Experiment& exp) : exp_(exp) {
  config::Node& config = exp.config;
  config::Node data_node = config.section("data", "the labelled data");
  data_ = data::dataset_registry().create(data_node);
  if (data_->num_classes() == 0) data_node.fail("type", "task classifier needs labelled data");
  const int64_t classes = data_->num_classes();

  config::Node eval_node = config.section("eval", "the held-out scores");
  eval_ = read_eval_options(eval_node);
  if (eval_node.has("data")) {
    config::Node held_out_node = eval_node.section("data", "the held-out data");
    held_out_ = data::dataset_registry().create(held_out_node);
    if (held_out_->num_classes() != classes || held_out_->sample_shape() != data_->sample_shape()) {
      held_out_node.fail("type", "the held-out data must have the training data's shape and classes");
    }
  } else if (data_node.require<std::string>("type") == "fashion_mnist") {
    // Fashion-MNIST's own test split, with the training data's shape, range and classes.
    config::Node test = data_node.clone();
    test.apply_override("split=test");
    held_out_ = data::dataset_registry().create(test);
  } else if (data_->size() > 0) {
    eval_node.fail("data", "a finite dataset's own points are not held out: give eval.data (e.g. a second file)");
  }

  config::Node objective = config.section("objective", "the training loss: cross-entropy");
  label_smoothing_ = objective.get<double>("label_smoothing", label_smoothing_,
                                           "target 1 - s on the label and s / K on every class");
  objective.expect(label_smoothing_ >= 0 && label_smoothing_ < 1, "label_smoothing", "a number in [0, 1)");

  // Initialisation is seeded so that a run is reproducible from its config alone.
  torch::manual_seed(static_cast<uint64_t>(exp.run.seed));
  config::Node model_node = config.section("model", "the classifier network");
  config::Node ema_node = model_node.clone();
  try {
    network_ = std::shared_ptr<nn::Classifier>(nn::classifier_registry().create(model_node, data_->sample_shape(), classes));
    ema_ = std::shared_ptr<nn::Classifier>(nn::classifier_registry().create(ema_node, data_->sample_shape(), classes));
  } catch (const c10::Error& e) {
    // A network that does not fit the data (a CNN on flat points): a config error at the model.
    model_node.fail("type", e.what_without_backtrace());
  }
  copy_weights(*ema_, *network_);
  network_->to(exp.device);
  ema_->to(exp.device);

  config::Node train_node = config.section("train");
  OptimizerWithSchedule built = build_optimizer(train_node, network_->parameters());
  optimizer_ = std::move(built.optimizer);
  schedule_ = std::move(built.schedule);
}

std::vector<TrainedModule> ClassifierTask::modules() { return {{kModelModule, network_, ema_}}; }

std::vector<TrainedOptimizer> ClassifierTask::optimizers() {
  return {{kMainOptimizer, optimizer_.get(), network_->parameters(), schedule_.get()}};
}

StepReport ClassifierTask::step(int64_t, at::Generator& gen, GradientStep& update) {
  const data::Batch batch = data_->sample(exp_.train.batch_size, gen);
  const torch::Tensor logits = network_->forward(batch.x.to(exp_.device));
  const torch::Tensor loss = cross_entropy(logits, batch.label.to(exp_.device), label_smoothing_);
  StepReport report;
  report.loss = update.apply(kMainOptimizer, loss);
  return report;
}

ClassificationScores ClassifierTask::score(nn::Classifier& classifier, uint64_t seed) const {
  torch::NoGradGuard no_grad;
  const bool was_training = classifier.is_training();
  classifier.eval();
  const data::Dataset& from = held_out_ ? *held_out_ : *data_;
  const int64_t n = from.size() > 0 ? std::min(eval_.n, from.size()) : eval_.n;
  auto gen = data::make_generator(seed + kHeldOutSeedOffset);
  std::vector<torch::Tensor> logits, labels;
  for (int64_t done = 0; done < n; done += eval_.batch_size) {
    const int64_t count = std::min(eval_.batch_size, n - done);
    const data::Batch batch = from.size() > 0 ? from.rows(done, done + count) : from.sample(count, gen);
    logits.push_back(classifier.forward(batch.x.to(exp_.device)).cpu());
    labels.push_back(batch.label.cpu());
  }
  classifier.train(was_training);
  return classification_scores(torch::cat(logits), torch::cat(labels), eval_.bins);
}

std::map<std::string, double> ClassifierTask::evaluate(uint64_t seed) {
  const ClassificationScores s = score(*classifier(), seed);
  return {{"accuracy", s.accuracy}, {"nll", s.nll}, {"ece", s.ece}, {"eval_points", static_cast<double>(s.points)}};
}

TeacherOptions TeacherOptions::read(config::Node& node) {
  TeacherOptions o;
  o.run = node.require<std::string>("run", "run directory of the trained network");
  const std::string checkpoint = node.get<std::string>("checkpoint", "", "checkpoint file; \"\" for the newest");
  if (!checkpoint.empty()) o.checkpoint = checkpoint;
  return o;
}

std::shared_ptr<nn::Classifier> load_classifier(const TeacherOptions& teacher) {
  LoadedRun run = load_run(teacher.run, {}, teacher.checkpoint);
  auto* task = dynamic_cast<ClassifierTask*>(run.experiment->task.get());
  if (!task) {
    throw Error(teacher.run + " is a " + run.experiment->task_name + " run, not a classifier run (task: classifier)");
  }
  std::shared_ptr<nn::Classifier> network = task->classifier();
  network->eval();
  return network;
}

}  // namespace flowlab::train
