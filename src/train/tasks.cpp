// The built-in tasks. The flow tasks, flow_matching (a field on a probability path) and
// monge_map (a map T from the source to the data, applied as one Euler step), train the
// experiment's model with its objective; monge_map adds the constraints a map needs. The
// classifier task lives in classifier_task.cpp.
#include <torch/torch.h>

#include "flowlab/core/log.h"
#include "flowlab/train/checkpoint.h"
#include "flowlab/train/classifier_task.h"
#include "flowlab/train/distill_classifier_task.h"
#include "flowlab/train/evaluation.h"
#include "flowlab/train/experiment.h"
#include "flowlab/train/onestep_distill_task.h"
#include "flowlab/train/task.h"

namespace flowlab::train {
namespace {

// Seeds of the data a path is computed from (kinetic_optimal), offset from run.seed.
constexpr uint64_t kPathDataSeedOffset = 0x5eed0f;

class FlowMatchingTask : public Task {
 public:
  explicit FlowMatchingTask(Experiment& exp) : exp_(exp) {}

  std::vector<TrainedModule> modules() override { return {{kModelModule, exp_.model, exp_.ema_model}}; }

  std::vector<TrainedOptimizer> optimizers() override {
    return {{kMainOptimizer, exp_.optimizer.get(), exp_.model->parameters(), exp_.schedule.get()}};
  }

  void prepare(uint64_t seed) override {
    if (!exp_.path->needs_fit()) return;
    // Its own generators, so the training stream is the same with any path.
    auto data_gen = data::make_generator(seed + kPathDataSeedOffset);
    const paths::DataDraw draw = [&](int64_t n) { return exp_.data->sample(n, data_gen).x; };
    log_info(exp_.path->fit(draw, seed + kPathDataSeedOffset + 1));
  }

  StepReport step(int64_t, at::Generator& gen, GradientStep& update) override {
    // Whole batches are drawn and paired; a data-parallel process keeps its shard's rows.
    const data::BatchShard& shard = exp_.shard;
    const int64_t batch = exp_.train.batch_size;
    const data::Batch data_batch = exp_.data->sample(batch, gen);
    const torch::Tensor x1 = shard.take(data_batch.x).to(exp_.device);
    // The mirror interpolant connects the data to itself: x0 = x1.
    torch::Tensor x0 = x1;
    if (!exp_.path->mirror()) {
      data::Batch source_batch = exp_.source->sample(batch, gen);
      if (exp_.coupling->active()) source_batch = exp_.coupling->pair(source_batch, data_batch, gen);
      x0 = shard.take(source_batch.x).to(exp_.device);
    }
    // A class-conditional model learns from the data's labels.
    const data::Condition condition{exp_.model->num_classes() > 0 ? shard.take(data_batch.label).to(exp_.device)
                                                                  : torch::Tensor()};
    const torch::Tensor loss = exp_.objective->loss(*exp_.model, *exp_.path, x0, x1, gen, condition, shard);
    StepReport report;
    report.loss = update.apply(kMainOptimizer, loss);
    return report;
  }

  std::map<std::string, double> evaluate(uint64_t seed) override { return evaluate_flow_task(exp_, seed); }

  TaskState state() const override { return exp_.path->state(); }
  void load_state(const TaskState& state) override { exp_.path->load_state(state); }
  std::vector<std::string> batch_coupled_losses() const override {
    if (!exp_.objective->couples_batch()) return {};
    return {"objective"};
  }

 protected:
  Experiment& exp_;
};

// A Monge map T(x) = x + f(x, 0) is one Euler step of f on the straight path: the task checks
// that the config says so (it does not rewrite it).
class MongeMapTask : public FlowMatchingTask {
 public:
  explicit MongeMapTask(Experiment& exp) : FlowMatchingTask(exp) {
    config::Node& config = exp.config;
    config::Node path = config.section("path");
    if (path.require<std::string>("type") != "linear" || path.get<std::string>("gamma", "zero") != "zero") {
      path.fail("type", "task monge_map needs the straight path {type: linear, gamma: zero}");
    }
    config::Node objective = config.section("objective");
    if (objective.require<std::string>("type") != "monge_map") {
      objective.fail("type", "task monge_map trains with objective {type: monge_map}");
    }
    if (exp.coupling->active()) {
      config.section("coupling").fail("type", "task monge_map pairs nothing; use coupling.type: independent");
    }
    if (exp.model->num_classes() > 0) {
      config.section("model").fail("num_classes", "task monge_map learns one unconditional map");
    }
    const SampleOptions& s = exp.sample;
    if (s.solver != "euler" || s.solver_options.steps != 1 || s.sde.enabled) {
      config.section("sample").fail("solver", "task monge_map applies T once: sample {solver: euler, steps: 1}, no SDE");
    }
  }
};

}  // namespace

Registry<Task, Experiment&>& task_registry() {
  static Registry<Task, Experiment&> registry("tasks");
  return registry;
}

bool is_flow_task(const std::string& name) {
  return name == "flow_matching" || name == "monge_map" || name == "onestep_distill";
}

void register_builtin_tasks() {
  task_registry().add(
      "classifier",
      "a network predicting labels from x (mlp or cnn), cross-entropy with optional label smoothing; accuracy, nll "
      "and ece on held-out data",
      [](config::Node&, Experiment& exp) -> std::unique_ptr<Task> { return std::make_unique<ClassifierTask>(exp); },
      [](config::Node&) {});
  task_registry().add(
      "distill_classifier",
      "a student classifier trained by a distillation objective (ce, kd, dkd, dist, bd_kd, pld, sinkd, ...) against a "
      "frozen teacher run or a teacher trained alongside",
      [](config::Node&, Experiment& exp) -> std::unique_ptr<Task> {
        return std::make_unique<DistillClassifierTask>(exp);
      },
      [](config::Node&) {});
  task_registry().add(
      "flow_matching",
      "a field on a probability path (velocity, score, denoiser...) regressed by the objective, sampled by ODE or SDE",
      [](config::Node&, Experiment& exp) -> std::unique_ptr<Task> {
        exp.build_flow_components();
        config::Node objective = exp.config.section("objective");
        if (objective.require<std::string>("type") == "monge_map") {
          objective.fail("type", "objective monge_map goes with task: monge_map");
        }
        return std::make_unique<FlowMatchingTask>(exp);
      },
      [](config::Node&) {});
  task_registry().add(
      "onestep_distill",
      "a one-step generator G(z) = z + b(z, 0) distilled from a flow run by f-divergence distribution matching "
      "(f-distill; reverse_kl is DMD2): fake score, discriminator on the teacher's features, GAN term",
      [](config::Node&, Experiment& exp) -> std::unique_ptr<Task> {
        return std::make_unique<OnestepDistillTask>(exp);
      },
      [](config::Node&) {});
  task_registry().add(
      "monge_map",
      "a map T(x) = x + f(x, 0) from the source to the data (objective monge_map, path {type: linear, gamma: zero}, "
      "sample {solver: euler, steps: 1})",
      [](config::Node&, Experiment& exp) -> std::unique_ptr<Task> {
        exp.build_flow_components();
        return std::make_unique<MongeMapTask>(exp);
      },
      [](config::Node&) {});
}

}  // namespace flowlab::train
