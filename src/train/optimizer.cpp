#include "flowlab/train/optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <type_traits>

#include "flowlab/distributed/gradient_reducer.h"

#include "flowlab/train/flat_parameters.h"

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

// One Adam step's scalars. Adam adds weight_decay * p to the gradient (L2);
// AdamW multiplies p by 1 - lr * weight_decay first (decoupled).
struct AdamStep {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  int64_t step;  // after this update, from 1
};

// The update of one parameter element, in torch::optim's order of operations.
template <class T, bool Decoupled>
void adam_elements(T* p, const T* g, T* m, T* v, int64_t begin, int64_t end, const AdamStep& s) {
  const T beta1 = static_cast<T>(s.beta1), beta2 = static_cast<T>(s.beta2);
  const T rest1 = static_cast<T>(1 - s.beta1), rest2 = static_cast<T>(1 - s.beta2);
  const T decay = static_cast<T>(1 - s.lr * s.weight_decay), l2 = static_cast<T>(s.weight_decay);
  const T root_correction2 = static_cast<T>(std::sqrt(1 - std::pow(s.beta2, static_cast<double>(s.step))));
  const T eps = static_cast<T>(s.eps);
  const T step_size = static_cast<T>(-s.lr / (1 - std::pow(s.beta1, static_cast<double>(s.step))));
  for (int64_t i = begin; i < end; ++i) {
    T grad = g[i], param = p[i];
    if constexpr (Decoupled) {
      param = param * decay;
    } else {
      grad = grad + l2 * param;
    }
    const T mi = m[i] * beta1 + rest1 * grad;
    const T vi = v[i] * beta2 + rest2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] = param + step_size * mi / (std::sqrt(vi) / root_correction2 + eps);
  }
}

template <class T>
void adam_loop(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m, const torch::Tensor& v,
               const AdamStep& s) {
  T* pp = p.data_ptr<T>();
  T* mp = m.data_ptr<T>();
  T* vp = v.data_ptr<T>();
  const T* gp = g.data_ptr<T>();
  // Without weight decay the decoupled form multiplies by exactly 1.
  const bool l2 = !s.decoupled && s.weight_decay != 0;
  at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
    if (l2) {
      adam_elements<T, false>(pp, gp, mp, vp, begin, end, s);
    } else {
      adam_elements<T, true>(pp, gp, mp, vp, begin, end, s);
    }
  });
}

// One Adam(W) update of whole buffers: a single pass on the CPU, torch::optim's
// tensor operations elsewhere.
void adam_update(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m, const torch::Tensor& v,
                 const AdamStep& s) {
  torch::NoGradGuard no_grad;
  if (p.is_cpu() && p.scalar_type() == torch::kFloat32) return adam_loop<float>(p, g, m, v, s);
  if (p.is_cpu() && p.scalar_type() == torch::kFloat64) return adam_loop<double>(p, g, m, v, s);
  torch::Tensor grad = g;
  if (s.weight_decay != 0) {
    if (s.decoupled) {
      p.mul_(1 - s.lr * s.weight_decay);
    } else {
      grad = grad.add(p, s.weight_decay);
    }
  }
  const double correction1 = 1 - std::pow(s.beta1, static_cast<double>(s.step));
  const double correction2 = 1 - std::pow(s.beta2, static_cast<double>(s.step));
  m.mul_(s.beta1).add_(grad, 1 - s.beta1);
  v.mul_(s.beta2).addcmul_(grad, grad, 1 - s.beta2);
  p.addcdiv_(m, (v.sqrt() / std::sqrt(correction2)).add_(s.eps), -s.lr / correction1);
}

// torch::optim's Adam or AdamW (same state, same checkpoints), stepping all
// parameters at once when they, their gradients and their moments each lie in
// one buffer (packed here on first use, and again after a checkpoint load
// re-points them). Otherwise, and for closures, amsgrad or several parameter
// groups, the base class steps tensor by tensor.
template <class Base, class Options, class State, bool Decoupled>
class FlatAdam : public Base {
 public:
  using Base::Base;

  torch::Tensor step(torch::optim::Optimizer::LossClosure closure = nullptr) override {
    if (closure || this->param_groups().size() != 1) return Base::step(closure);
    auto& group = this->param_groups()[0];
    const auto& options = static_cast<const Options&>(group.options());
    if (options.amsgrad() || group.params().empty()) return Base::step(closure);
    const std::vector<torch::Tensor>& params = group.params();
    const torch::Tensor grads = flat_gradients(params);
    if (!grads.defined()) return Base::step(closure);
    std::vector<State*> states = states_of(params);
    if (states.empty()) return Base::step(closure);
    std::vector<torch::Tensor> first, second;
    for (State* s : states) {
      first.push_back(s->exp_avg());
      second.push_back(s->exp_avg_sq());
    }
    const torch::Tensor values = pack_contiguously(params);
    const torch::Tensor m = pack_contiguously(first), v = pack_contiguously(second);
    // Packing moved the tensors the states hold; the states hold the same tensors.
    const int64_t step = states[0]->step() + 1;
    adam_update(values, grads, m, v,
                AdamStep{options.lr(), std::get<0>(options.betas()), std::get<1>(options.betas()), options.eps(),
                         options.weight_decay(), Decoupled, step});
    for (State* s : states) s->step(step);
    return {};
  }

 private:
  using StateMap = std::decay_t<decltype(std::declval<Base&>().state())>;
  using Key = typename StateMap::key_type;

  // torch::optim keys a parameter's state by its TensorImpl: as a printed pointer
  // in LibTorch 1.x, as the pointer itself in 2.x.
  static Key key_of(const torch::Tensor& p) {
    if constexpr (std::is_same_v<Key, std::string>) {
      std::ostringstream text;
      text << p.unsafeGetTensorImpl();
      return text.str();
    } else {
      return p.unsafeGetTensorImpl();
    }
  }

  // Every parameter's state, created (zero moments in one buffer, step 0) when none has one;
  // empty when only some have one, or their step counts differ.
  std::vector<State*> states_of(const std::vector<torch::Tensor>& params) {
    StateMap& map = this->state();
    std::vector<State*> found;
    for (const torch::Tensor& p : params) {
      auto it = map.find(key_of(p));
      if (it == map.end()) break;
      found.push_back(static_cast<State*>(it->second.get()));
      if (found.back()->step() != found.front()->step()) return {};
    }
    if (found.size() == params.size()) return found;
    if (!found.empty()) return {};
    int64_t total = 0;
    for (const torch::Tensor& p : params) total += p.numel();
    const auto options = params[0].options().requires_grad(false);
    const torch::Tensor first = torch::zeros({total}, options), second = torch::zeros({total}, options);
    int64_t offset = 0;
    for (const torch::Tensor& p : params) {
      auto state = std::make_unique<State>();
      state->step(0);
      state->exp_avg(first.narrow(0, offset, p.numel()).view(p.sizes()));
      state->exp_avg_sq(second.narrow(0, offset, p.numel()).view(p.sizes()));
      found.push_back(state.get());
      map[key_of(p)] = std::move(state);
      offset += p.numel();
    }
    return found;
  }
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

namespace {

void zero_gradients(torch::optim::Optimizer& optimizer) {
  std::vector<torch::Tensor> params;
  for (const auto& group : optimizer.param_groups()) {
    params.insert(params.end(), group.params().begin(), group.params().end());
  }
  // Gradients kept in one buffer stay there (backward accumulates into them in place).
  if (torch::Tensor flat = flat_view(gradients_of(params)); flat.defined()) {
    flat.zero_();
  } else {
    optimizer.zero_grad();
  }
}

}  // namespace

torch::Tensor clip_gradient_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  const torch::Tensor flat = flat_gradients(parameters);
  std::vector<torch::Tensor> grads;
  if (!flat.defined()) {
    for (const torch::Tensor& p : parameters) {
      if (p.grad().defined()) grads.push_back(p.grad());
    }
    if (grads.empty()) return torch::zeros({});
  }
  torch::Tensor norm;
  if (flat.defined()) {
    norm = flat.norm();
  } else {
    std::vector<torch::Tensor> norms;
    for (const torch::Tensor& g : grads) norms.push_back(g.norm());
    norm = torch::stack(norms).norm();
  }
  if (std::isinf(max_norm)) return norm;
  // torch::nn::utils::clip_grad_norm_'s rule, factor max_norm / (norm + 1e-6) when below 1, on the
  // device: a factor of 1 leaves the gradients exactly as they are.
  const torch::Tensor factor = (max_norm / (norm + 1e-6)).clamp_max(1.0);
  if (flat.defined()) {
    flat.mul_(factor);
  } else {
    for (torch::Tensor& g : grads) g.mul_(factor);
  }
  return norm;
}

torch::Tensor gradient_step(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters,
                            const torch::Tensor& loss, double max_norm, distributed::GradientReducer* reducer,
                            float vote) {
  if (reducer) {
    reducer->begin(vote);
  } else {
    zero_gradients(optimizer);
  }
  loss.backward();
  if (reducer) reducer->finish();
  const torch::Tensor norm = clip_gradient_norm(parameters, max_norm);
  optimizer.step();
  return norm;
}

void register_builtin_training() {
  add_adam_variant<FlatAdam<torch::optim::Adam, torch::optim::AdamOptions, torch::optim::AdamParamState, false>,
                   torch::optim::AdamOptions>(
      "adam", "Adam (Kingma & Ba), weight_decay as L2 penalty", 0.0);
  add_adam_variant<FlatAdam<torch::optim::AdamW, torch::optim::AdamWOptions, torch::optim::AdamWParamState, true>,
                   torch::optim::AdamWOptions>(
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
