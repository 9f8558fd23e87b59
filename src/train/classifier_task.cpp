#include "flowlab/train/classifier_task.h"

#include <torch/torch.h>

#include <cmath>

#include "flowlab/core/error.h"
#include "flowlab/data/image_dataset.h"
#include "flowlab/train/checkpoint.h"
#include "flowlab/train/distill_classifier_task.h"
#include "flowlab/train/ema.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/run.h"

namespace flowlab::train {

ClassifierTask::ClassifierTask(Experiment& exp) : exp_(exp) {
  config::Node& config = exp.config;
  config::Node data_node = config.section("data", "the labelled data");
  data_ = data::dataset_registry().create(data_node);
  if (data_->num_classes() == 0) data_node.fail("type", "task classifier needs labelled data");
  const int64_t classes = data_->num_classes();

  config::Node eval_node = config.section("eval", "the held-out scores");
  held_out_ = std::make_unique<HeldOutData>(eval_node, data_node, *data_);

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
  const data::Batch batch = exp_.shard.take(data_->sample(exp_.train.batch_size, gen));
  const torch::Tensor logits = network_->forward(batch.x.to(exp_.device));
  const torch::Tensor loss = cross_entropy(logits, batch.label.to(exp_.device), label_smoothing_);
  StepReport report;
  report.loss = update.apply(kMainOptimizer, loss);
  return report;
}

std::map<std::string, double> ClassifierTask::evaluate(uint64_t seed) {
  const ClassificationScores s = held_out_->score(*classifier(), seed, exp_.device);
  return {{"accuracy", s.accuracy}, {"nll", s.nll}, {"ece", s.ece}, {"eval_points", static_cast<double>(s.points)}};
}

LoadedClassifier load_classifier(const TeacherOptions& teacher) {
  LoadedRun run = load_run(teacher.run, {}, teacher.checkpoint);
  std::shared_ptr<nn::Classifier> network;
  if (auto* task = dynamic_cast<ClassifierTask*>(run.experiment->task.get())) {
    network = task->classifier();
  } else if (auto* distilled = dynamic_cast<DistillClassifierTask*>(run.experiment->task.get())) {
    network = distilled->classifier();  // a distilled student teaches the next generation
  } else {
    throw Error(teacher.run + " is a " + run.experiment->task_name +
                " run, not a classifier run (task: classifier or distill_classifier)");
  }
  network->eval();
  return LoadedClassifier{network, run.experiment->config.section("data").clone()};
}

void check_classifier_input(nn::Classifier& classifier, const data::Dataset& data, const config::Node& data_config,
                            const config::Node* trained_on, const config::Node& node, const std::string& key,
                            torch::Device device) {
  const std::string trained_range = trained_on ? data::pixel_range_of(*trained_on).name : "";
  const std::string data_range = data::pixel_range_of(data_config).name;
  if (trained_on && trained_range != data_range) {
    node.fail(key, "the classifier was trained on pixel_range " + trained_range + ", this data has " + data_range);
  }
  torch::NoGradGuard no_grad;
  const bool was_training = classifier.is_training();
  classifier.eval();
  // Points of the data's shape, not drawn ones: the check must not read the data's files.
  std::vector<int64_t> shape = data.sample_shape();
  shape.insert(shape.begin(), 2);
  try {
    classifier.forward(torch::zeros(shape, torch::TensorOptions().device(device)));
  } catch (const c10::Error& e) {
    classifier.train(was_training);
    node.fail(key, std::string("the classifier does not take this data's points: ") + e.what_without_backtrace());
  }
  classifier.train(was_training);
}

}  // namespace flowlab::train
