#include "flowlab/train/optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/torch.h>

#include <cmath>

namespace flowlab::train {
namespace {

struct AdamOptions {
  double lr = 1e-3;
  std::vector<double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  static AdamOptions read(config::Node& node, double default_weight_decay) {
    AdamOptions o;
    o.weight_decay = default_weight_decay;
    o.lr = node.get<double>("lr", o.lr, "base learning rate");
    node.expect(o.lr > 0 && std::isfinite(o.lr), "lr", "a number > 0");
    o.betas = node.get<std::vector<double>>("betas", o.betas, "moment decay rates");
    node.expect(o.betas.size() == 2 && o.betas[0] >= 0 && o.betas[0] < 1 && o.betas[1] >= 0 && o.betas[1] < 1,
                "betas", "two numbers in [0, 1)");
    o.eps = node.get<double>("eps", o.eps, "denominator epsilon");
    node.expect(o.eps > 0, "eps", "a number > 0");
    o.weight_decay = node.get<double>("weight_decay", o.weight_decay,
                                      "weight decay (L2 for adam, decoupled for adamw)");
    node.expect(o.weight_decay >= 0, "weight_decay", "a number >= 0");
    return o;
  }
};

struct ConstantSchedule : LrSchedule {
  explicit ConstantSchedule(const NoOptions&) {}
  double factor(int64_t, int64_t) const override { return 1.0; }
};

struct WarmupOptions {
  int64_t warmup = 0;
  static WarmupOptions read(config::Node& node) {
    WarmupOptions o;
    o.warmup = node.get<int64_t>("warmup", o.warmup, "linear warm-up steps from 0");
    node.expect(o.warmup >= 0, "warmup", "an integer >= 0");
    return o;
  }
};

struct CosineOptions : WarmupOptions {
  double min_factor = 0.0;
  static CosineOptions read(config::Node& node) {
    CosineOptions o;
    static_cast<WarmupOptions&>(o) = WarmupOptions::read(node);
    o.min_factor = node.get<double>("min_factor", o.min_factor, "final learning rate as a fraction of lr");
    node.expect(o.min_factor >= 0 && o.min_factor <= 1, "min_factor", "a number in [0, 1]");
    return o;
  }
};

struct StepOptions : WarmupOptions {
  int64_t step_size = 1000;
  double gamma = 0.1;
  static StepOptions read(config::Node& node) {
    StepOptions o;
    static_cast<WarmupOptions&>(o) = WarmupOptions::read(node);
    o.step_size = node.get<int64_t>("step_size", o.step_size, "steps between decays");
    node.expect(o.step_size >= 1, "step_size", "an integer >= 1");
    o.gamma = node.get<double>("gamma", o.gamma, "factor applied every step_size steps");
    node.expect(o.gamma > 0 && o.gamma <= 1, "gamma", "a number in (0, 1]");
    return o;
  }
};

double warmup_factor(int64_t step, int64_t warmup) {
  return warmup > 0 && step < warmup ? static_cast<double>(step + 1) / static_cast<double>(warmup) : 1.0;
}

struct WarmupSchedule : LrSchedule {
  explicit WarmupSchedule(const WarmupOptions& o) : options(o) {}
  double factor(int64_t step, int64_t) const override { return warmup_factor(step, options.warmup); }
  WarmupOptions options;
};

// Linear warm-up, then half a cosine from 1 down to min_factor at the last step.
struct CosineSchedule : LrSchedule {
  explicit CosineSchedule(const CosineOptions& o) : options(o) {}
  double factor(int64_t step, int64_t total) const override {
    if (step < options.warmup) return warmup_factor(step, options.warmup);
    const double span = static_cast<double>(std::max<int64_t>(1, total - options.warmup));
    const double progress = std::min(1.0, static_cast<double>(step - options.warmup) / span);
    return options.min_factor + (1.0 - options.min_factor) * 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  CosineOptions options;
};

// Linear warm-up, then gamma^floor(step / step_size) (PyTorch's StepLR counts from step 0).
struct StepSchedule : LrSchedule {
  explicit StepSchedule(const StepOptions& o) : options(o) {}
  double factor(int64_t step, int64_t) const override {
    return warmup_factor(step, options.warmup) *
           std::pow(options.gamma, static_cast<double>(step / options.step_size));
  }
  StepOptions options;
};

// Adam and AdamW share their options; only the weight-decay rule and its default differ.
template <class Optimizer, class TorchOptions>
void add_adam_variant(const std::string& name, const std::string& doc, double default_weight_decay) {
  optimizer_registry().add(
      name, doc,
      [default_weight_decay](config::Node& node, std::vector<torch::Tensor> params)
          -> std::unique_ptr<torch::optim::Optimizer> {
        const AdamOptions o = AdamOptions::read(node, default_weight_decay);
        return std::make_unique<Optimizer>(
            params, TorchOptions(o.lr).betas({o.betas[0], o.betas[1]}).eps(o.eps).weight_decay(o.weight_decay));
      },
      [default_weight_decay](config::Node& node) { AdamOptions::read(node, default_weight_decay); });
}

}  // namespace

Registry<torch::optim::Optimizer, std::vector<torch::Tensor>>& optimizer_registry() {
  static Registry<torch::optim::Optimizer, std::vector<torch::Tensor>> registry("optimizers");
  return registry;
}

Registry<LrSchedule>& schedule_registry() {
  static Registry<LrSchedule> registry("schedules");
  return registry;
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

double learning_rate(const torch::optim::Optimizer& optimizer) {
  return optimizer.param_groups().at(0).options().get_lr();
}

OptimizerWithSchedule build_optimizer(config::Node& train_node, std::vector<torch::Tensor> parameters) {
  OptimizerWithSchedule out;
  config::Node optimizer_node = train_node.section("optimizer");
  if (!optimizer_node.has("type")) optimizer_node.apply_override("type=adamw");
  out.optimizer = optimizer_registry().create(optimizer_node, std::move(parameters));
  config::Node schedule_node = train_node.section("schedule");
  if (!schedule_node.has("type")) schedule_node.apply_override("type=constant");
  out.schedule = schedule_registry().create(schedule_node);
  return out;
}

double gradient_step(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters,
                     const torch::Tensor& loss, double max_norm) {
  optimizer.zero_grad();
  loss.backward();
  const double norm = torch::nn::utils::clip_grad_norm_(parameters, max_norm);
  optimizer.step();
  return norm;
}

void register_builtin_training() {
  add_adam_variant<torch::optim::Adam, torch::optim::AdamOptions>(
      "adam", "Adam (Kingma & Ba), weight_decay as L2 penalty", 0.0);
  add_adam_variant<torch::optim::AdamW, torch::optim::AdamWOptions>(
      "adamw", "AdamW (Loshchilov & Hutter), decoupled weight decay", 0.01);
  schedule_registry().add_component<ConstantSchedule, NoOptions>("constant", "constant learning rate");
  schedule_registry().add_component<WarmupSchedule, WarmupOptions>(
      "warmup", "linear warm-up over `warmup` steps, then constant");
  schedule_registry().add_component<CosineSchedule, CosineOptions>(
      "cosine", "linear warm-up, then cosine decay to min_factor * lr at the last step");
  schedule_registry().add_component<StepSchedule, StepOptions>(
      "step", "lr * gamma^floor(step / step_size) (PyTorch StepLR), after an optional linear warm-up");
}

}  // namespace flowlab::train
