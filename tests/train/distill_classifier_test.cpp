// task: distill_classifier on a labelled toy set: offline from a teacher run, online with both
// networks trained, exact resume of an online run, and config errors.
#include "flowlab/train/distill_classifier_task.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "flowlab/train/classifier_task.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/trainer.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

// Eight Gaussians with their labels: a teacher MLP separates them; a narrow student learns from it.
std::string base(const std::string& dir, const std::string& name) {
  return "run: {name: " + name + ", dir: " + dir + ", threads: 1, seed: 3}\n"
         "data: {type: toy2d, name: eight_gaussians}\n"
         "eval: {n: 2000}\n";
}

std::vector<double> logged(const std::string& run_dir, const std::string& key) {
  std::vector<double> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::smatch m;
  const std::regex pattern("\"" + key + "\": ([-0-9.eE+]+)");
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"step\"") != std::string::npos && std::regex_search(line, m, pattern)) out.push_back(std::stod(m[1]));
  }
  return out;
}

double mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

TEST(DistillClassifier, OfflineStudentLearnsFromATeacherRun) {
  testing::TempDir dir;
  Experiment teacher(config::Node::parse(base(dir.path(), "teacher") +
                                             "task: classifier\nmodel: {type: mlp, hidden: [64, 64]}\n"
                                             "train: {steps: 300, batch_size: 256, eval_every: 0, log_every: 100}\n",
                                         "teacher.yaml"));
  Trainer(teacher).run(false);
  const double teacher_accuracy = teacher.task->evaluate(0).at("accuracy");
  ASSERT_GT(teacher_accuracy, 0.95);

  config::Node config = config::Node::parse(
      base(dir.path(), "student") + "task: distill_classifier\nteacher: {run: " + teacher.run_dir() + "}\n"
      "model: {type: mlp, hidden: [16]}\n"
      "objective: {type: distillation, temperature: 2, terms: {ce: {weight: 0.5}, kd: {weight: 0.5}}}\n"
      "train: {steps: 300, batch_size: 256, eval_every: 100, log_every: 50}\n",
      "student.yaml");
  Experiment student(config);
  Trainer(student).run(false);
  const std::map<std::string, double> s = student.task->evaluate(0);
  EXPECT_GT(s.at("accuracy"), 0.93);
  EXPECT_GT(s.at("agreement"), 0.93);
  EXPECT_NEAR(s.at("teacher_accuracy"), teacher_accuracy, 1e-12);  // the same held-out points
  EXPECT_GE(s.at("kl_teacher_student"), 0.0);
  EXPECT_LT(s.at("kl_teacher_student"), 0.5);
  for (const char* key : {"nll", "ece", "teacher_nll", "teacher_ece"}) EXPECT_TRUE(s.count(key)) << key;
  // Each term's value is logged beside the loss, and the teacher stays frozen.
  EXPECT_EQ(logged(student.run_dir(), "loss_kd").size(), 6u);
  EXPECT_EQ(logged(student.run_dir(), "accuracy").size(), 3u);
  const std::string resolved = testing::read_file(student.run_dir() + "/config.yaml");
  EXPECT_NE(resolved.find("temperature: 2"), std::string::npos) << resolved;

  // A distilled student is itself a teacher for the next generation.
  const std::shared_ptr<nn::Classifier> next = load_classifier({student.run_dir(), std::nullopt}).network;
  EXPECT_EQ(next->num_classes(), 8);
}

TEST(DistillClassifier, OnlineTeacherAndStudentBothLearnAndResumeExactly) {
  testing::TempDir dir;
  const auto config = [&](const std::string& name, int64_t steps) {
    return config::Node::parse(
        base(dir.path(), name) + "task: distill_classifier\n"
        "teacher: {train: true, model: {type: mlp, hidden: [64, 64]},\n"
        "          objective: {terms: {ce: {}, reverse_kd: {weight: 0.5, temperature: 2}}}}\n"
        "model: {type: mlp, hidden: [16]}\n"
        "objective: {temperature: 2, terms: {ce: {}, bd_kd: {}}}\n"
        "train: {steps: " + std::to_string(steps) +
            ", batch_size: 128, eval_every: 0, log_every: 1, checkpoint_every: 20, keep_last: 0}\n",
        name + ".yaml");
  };
  {
    Experiment full(config("full", 120));
    Trainer(full).run(false);
    const std::vector<double> student = logged(full.run_dir(), "loss"), teacher = logged(full.run_dir(), "teacher_loss");
    ASSERT_EQ(student.size(), 120u);
    ASSERT_EQ(teacher.size(), 120u);
    // The student's distillation term follows a teacher that sharpens as it learns, so its value
    // can grow; the student's own cross-entropy and the teacher's loss must fall.
    const std::vector<double> student_ce = logged(full.run_dir(), "loss_ce");
    ASSERT_EQ(student_ce.size(), 120u);
    // The 16-unit student learns more slowly than the teacher (2.05 to 1.37 over these steps).
    EXPECT_LT(mean(student_ce, 100, 120), 0.75 * mean(student_ce, 0, 20));
    EXPECT_LT(mean(teacher, 100, 120), 0.5 * mean(teacher, 0, 20));
    EXPECT_GT(full.task->evaluate(0).at("accuracy"), 0.6);  // chance is 1/8
    EXPECT_EQ(logged(full.run_dir(), "teacher_loss_reverse_kd").size(), 120u);
    EXPECT_GT(full.task->evaluate(0).at("teacher_accuracy"), 0.9);
  }
  // A 40-step run cut after step 20 and resumed logs what the uninterrupted one does.
  std::vector<double> uninterrupted;
  {
    Experiment a(config("a", 40));
    Trainer(a).run(false);
    uninterrupted = logged(a.run_dir(), "teacher_loss");
    const std::vector<double> student = logged(a.run_dir(), "loss");
    uninterrupted.insert(uninterrupted.end(), student.begin(), student.end());
  }
  {
    Experiment b(config("b", 40));
    Trainer(b).run(false);
    std::filesystem::remove(b.run_dir() + "/checkpoints/step_000000040.pt");
  }
  // Drop the logged steps after 20 as a crash would have lost them: resume rewrites them.
  Experiment b(config("b", 40));
  Trainer(b).run(true);
  std::vector<double> resumed = logged(b.run_dir(), "teacher_loss");
  const std::vector<double> student = logged(b.run_dir(), "loss");
  resumed.insert(resumed.end(), student.begin(), student.end());
  EXPECT_EQ(resumed, uninterrupted);
}

TEST(DistillClassifier, ConfigErrorsNameTheKey) {
  testing::TempDir dir;
  const std::string common = base(dir.path(), "c") + "task: distill_classifier\nmodel: {type: mlp, hidden: [8]}\n";
  const auto build = [](const std::string& yaml) { return [yaml] { Experiment exp(config::Node::parse(yaml, "c.yaml")); }; };
  testing::expect_config_error(build(common + "teacher: {train: true, model: {type: mlp}}\nobjective: {terms: {}}\n"),
                               {"objective.terms", "at least one term"});
  testing::expect_config_error(build(common + "teacher: {}\nobjective: {terms: {kd: {}}}\n"), {"teacher.run"});
  testing::expect_error(build(common + "teacher: {run: " + dir.path() + "/nothing}\nobjective: {terms: {kd: {}}}\n"),
                        {"nothing"});
  testing::expect_config_error(
      build(common + "teacher: {train: true, model: {type: cnn}}\nobjective: {terms: {kd: {}}}\n"),
      {"teacher.model", "image-shaped"});
}

}  // namespace
}  // namespace flowlab::train
