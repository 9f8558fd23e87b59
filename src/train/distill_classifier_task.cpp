#include "flowlab/train/distill_classifier_task.h"

#include <torch/torch.h>

#include <optional>

#include "flowlab/core/error.h"
#include "flowlab/train/checkpoint.h"
#include "flowlab/train/classifier_task.h"
#include "flowlab/train/ema.h"
#include "flowlab/train/experiment.h"

namespace flowlab::train {
namespace {

std::shared_ptr<nn::Classifier> build_classifier(config::Node& node, const data::Dataset& data) {
  try {
    return std::shared_ptr<nn::Classifier>(
        nn::classifier_registry().create(node, data.sample_shape(), data.num_classes()));
  } catch (const c10::Error& e) {
    // A network that does not fit the data (a CNN on flat points): a config error at the model.
    node.fail("type", e.what_without_backtrace());
  }
}

}  // namespace

DistillClassifierTask::DistillClassifierTask(Experiment& exp) : exp_(exp) {
  config::Node& config = exp.config;
  config::Node data_node = config.section("data", "the labelled data");
  data_ = data::dataset_registry().create(data_node);
  if (data_->num_classes() == 0) data_node.fail("type", "task distill_classifier needs labelled data");
  config::Node eval_node = config.section("eval", "the held-out scores");
  held_out_ = std::make_unique<HeldOutData>(eval_node, data_node, *data_);
  config::Node objective_node = config.section("objective", "the student's distillation objective");
  objective_ = std::make_unique<distill::DistillationObjective>(objective_node);

  // Initialisation is seeded so that a run is reproducible from its config alone.
  torch::manual_seed(static_cast<uint64_t>(exp.run.seed));
  config::Node model_node = config.section("model", "the student classifier");
  config::Node ema_node = model_node.clone();
  student_ = build_classifier(model_node, *data_);
  ema_ = build_classifier(ema_node, *data_);
  copy_weights(*ema_, *student_);
  student_->to(exp.device);
  ema_->to(exp.device);

  config::Node teacher_node = config.section("teacher", "the teacher: {run: DIR} (frozen) or {train: true, ...}");
  const bool online = teacher_node.get<bool>("train", false, "train the teacher alongside the student from scratch");
  std::optional<LoadedClassifier> teacher_run;  // offline: the teacher's run
  if (online) {
    config::Node teacher_model = teacher_node.section("model", "the teacher classifier");
    teacher_ = build_classifier(teacher_model, *data_);
    config::Node teacher_objective = teacher_node.section("objective", "the teacher's objective (default: ce)");
    if (teacher_objective.keys().empty()) teacher_objective.apply_override("terms={ce: {weight: 1.0}}");
    teacher_objective_ = std::make_unique<distill::DistillationObjective>(teacher_objective);
  } else {
    teacher_run = load_classifier(TeacherOptions::read(teacher_node));
    teacher_ = teacher_run->network;
  }
  teacher_->to(exp.device);
  if (teacher_->num_classes() != data_->num_classes()) {
    teacher_node.fail(online ? "model" : "run", "the teacher predicts " + std::to_string(teacher_->num_classes()) +
                                                    " classes, the data has " + std::to_string(data_->num_classes()));
  }
  // The teacher must take this data's points (a teacher trained on images takes image-shaped x).
  check_classifier_input(*teacher_, *data_, data_node, online ? nullptr : &teacher_run->data, teacher_node,
                         online ? "model" : "run", exp.device);
  if (!online) {
    teacher_->eval();
    for (auto& p : teacher_->parameters()) p.set_requires_grad(false);
  }

  config::Node train_node = config.section("train");
  OptimizerWithSchedule built = build_optimizer(train_node, student_->parameters());
  optimizer_ = std::move(built.optimizer);
  schedule_ = std::move(built.schedule);
  if (online) {
    config::Node teacher_train = train_node.clone();
    OptimizerWithSchedule teacher_built = build_optimizer(teacher_train, teacher_->parameters());
    teacher_optimizer_ = std::move(teacher_built.optimizer);
    teacher_schedule_ = std::move(teacher_built.schedule);
  }
}

std::vector<TrainedModule> DistillClassifierTask::modules() {
  std::vector<TrainedModule> out{{kModelModule, student_, ema_}};
  if (online()) out.push_back({kTeacherModule, teacher_, nullptr});
  return out;
}

std::vector<TrainedOptimizer> DistillClassifierTask::optimizers() {
  std::vector<TrainedOptimizer> out{{kMainOptimizer, optimizer_.get(), student_->parameters(), schedule_.get()}};
  if (online()) {
    out.push_back({kTeacherOptimizer, teacher_optimizer_.get(), teacher_->parameters(), teacher_schedule_.get()});
  }
  return out;
}

StepReport DistillClassifierTask::step(int64_t step, at::Generator& gen, GradientStep& update) {
  const data::Batch batch = exp_.shard.take(data_->sample(exp_.train.batch_size, gen));
  const torch::Tensor x = batch.x.to(exp_.device), labels = batch.label.to(exp_.device);
  const torch::Tensor student = student_->forward(x);
  torch::Tensor teacher;
  if (online()) {
    teacher = teacher_->forward(x);
  } else {
    torch::NoGradGuard no_grad;
    teacher = teacher_->forward(x);
  }
  std::map<std::string, torch::Tensor> parts;
  const torch::Tensor loss = objective_->loss({student, teacher.detach(), labels, step}, &parts);
  StepReport report;
  report.loss = update.apply(kMainOptimizer, loss);
  if (online()) {
    std::map<std::string, torch::Tensor> teacher_parts;
    const torch::Tensor teacher_loss =
        teacher_objective_->loss({teacher, student.detach(), labels, step}, &teacher_parts);
    report.values["teacher_loss"] = update.apply(kTeacherOptimizer, teacher_loss);
    for (const auto& [name, value] : teacher_parts) report.values["teacher_" + name] = value.detach();
  }
  for (const auto& [name, value] : parts) report.values[name] = value.detach();
  return report;
}

std::vector<std::string> DistillClassifierTask::batch_coupled_losses() const {
  std::vector<std::string> names = objective_->batch_coupled_terms();
  if (teacher_objective_) {
    for (const std::string& name : teacher_objective_->batch_coupled_terms()) names.push_back("teacher " + name);
  }
  return names;
}

std::map<std::string, double> DistillClassifierTask::evaluate(uint64_t seed) {
  nn::Classifier& student = *classifier();
  const auto [logits, labels] = held_out_->logits({&student, teacher_.get()}, seed, exp_.device);
  const int64_t bins = held_out_->options().bins;
  const ClassificationScores s = classification_scores(logits[0], labels, bins);
  const ClassificationScores t = classification_scores(logits[1], labels, bins);
  const torch::Tensor zs = logits[0].to(torch::kFloat64), zt = logits[1].to(torch::kFloat64);
  const torch::Tensor log_s = torch::log_softmax(zs, 1), log_t = torch::log_softmax(zt, 1);
  const double agreement = (zs.argmax(1) == zt.argmax(1)).to(torch::kFloat64).mean().item<double>();
  const double kl = (log_t.exp() * (log_t - log_s)).sum(1).mean().item<double>();
  return {{"accuracy", s.accuracy},
          {"nll", s.nll},
          {"ece", s.ece},
          {"teacher_accuracy", t.accuracy},
          {"teacher_nll", t.nll},
          {"teacher_ece", t.ece},
          {"agreement", agreement},
          {"kl_teacher_student", kl},
          {"eval_points", static_cast<double>(s.points)}};
}

}  // namespace flowlab::train
