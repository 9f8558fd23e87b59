#pragma once
// task: distill_classifier — a student classifier trained on labelled data by a distillation
// objective (distill/distillation_objective.h) against a teacher's logits. The teacher is a
// frozen classifier from another run (offline), or trained alongside from scratch with its own
// optimizer and objective (online, as in DML and BD-KD):
//
//   task: distill_classifier
//   data:    {type: fashion_mnist, shape: image}
//   teacher: {run: runs/fmnist_teacher}                # offline; or:
//   teacher: {train: true, model: {type: cnn, ...}, objective: {type: distillation, terms: {ce: {}}}}
//   model:   {type: cnn, channels: [8, 16], hidden: 32} # the student
//   objective: {type: distillation, temperature: 4, terms: {ce: {weight: 1}, kd: {weight: 1}}}
//
// Online, the teacher's objective sees the teacher's logits as its "student" and the student's
// (detached) as its "teacher"; both optimizers are built from the train: section. Scores on the
// held-out data (train/held_out.h): the student's accuracy, nll, ece; the teacher's; their top-1
// agreement and KL(p_teacher || p_student) at T = 1.
#include <memory>

#include "flowlab/data/dataset.h"
#include "flowlab/distill/distillation_objective.h"
#include "flowlab/nn/classifier.h"
#include "flowlab/train/held_out.h"
#include "flowlab/train/task.h"

namespace flowlab::train {

/// Checkpoint names of an online teacher and its optimizer.
constexpr const char* kTeacherModule = "teacher";
constexpr const char* kTeacherOptimizer = "teacher_optimizer";

class DistillClassifierTask : public Task {
 public:
  explicit DistillClassifierTask(Experiment& exp);
  std::vector<TrainedModule> modules() override;
  std::vector<TrainedOptimizer> optimizers() override;
  StepReport step(int64_t step, at::Generator& gen, GradientStep& update) override;
  std::map<std::string, double> evaluate(uint64_t seed) override;
  std::vector<std::string> batch_coupled_losses() const override;

  /// The student evaluation uses (its EMA copy with eval.use_ema).
  std::shared_ptr<nn::Classifier> classifier() const { return held_out_->options().use_ema ? ema_ : student_; }
  bool online() const { return static_cast<bool>(teacher_optimizer_); }

 private:
  Experiment& exp_;
  std::unique_ptr<data::Dataset> data_;
  std::unique_ptr<HeldOutData> held_out_;
  std::shared_ptr<nn::Classifier> student_, ema_, teacher_;
  std::unique_ptr<distill::DistillationObjective> objective_, teacher_objective_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_, teacher_optimizer_;
  std::unique_ptr<LrSchedule> schedule_, teacher_schedule_;
};

}  // namespace flowlab::train
