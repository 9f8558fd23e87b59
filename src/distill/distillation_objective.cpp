#include "flowlab/distill/distillation_objective.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"
#include "flowlab/distill/bd_kd_balance.h"
#include "flowlab/distill/logit_losses.h"
#include "flowlab/train/classification.h"

namespace flowlab::distill {
namespace {

double read_temperature(config::Node& node, double fallback = 4.0) {
  const double t = node.get<double>("temperature", fallback, "softmax temperature T (default: objective.temperature)");
  node.expect(std::isfinite(t) && t > 0, "temperature", "a number > 0");
  return t;
}

struct CeOptions {
  double label_smoothing = 0.0;
  static CeOptions read(config::Node& node) {
    CeOptions o;
    o.label_smoothing = node.get<double>("label_smoothing", o.label_smoothing,
                                         "target 1 - s on the label and s / K on every class");
    node.expect(o.label_smoothing >= 0 && o.label_smoothing < 1, "label_smoothing", "a number in [0, 1)");
    return o;
  }
};

class CeTerm : public DistillationTerm {
 public:
  explicit CeTerm(const CeOptions& o) : o_(o) {}
  torch::Tensor loss(const DistillationInputs& in) const override {
    return train::cross_entropy(in.student, in.labels, o_.label_smoothing);
  }

 private:
  CeOptions o_;
};

struct TemperatureOptions {
  double temperature = 4.0;
  static TemperatureOptions read(config::Node& node) { return {read_temperature(node)}; }
};

// kd, reverse_kd, js: a divergence between the tempered distributions.
template <torch::Tensor (*Divergence)(const torch::Tensor&, const torch::Tensor&, double)>
class DivergenceTerm : public DistillationTerm {
 public:
  explicit DivergenceTerm(const TemperatureOptions& o) : o_(o) {}
  torch::Tensor loss(const DistillationInputs& in) const override {
    return Divergence(in.student, in.teacher, o_.temperature);
  }

 private:
  TemperatureOptions o_;
};

struct DkdOptions {
  double temperature = 4.0, alpha = 1.0, beta = 8.0;
  int64_t warmup_steps = 0;
  static DkdOptions read(config::Node& node) {
    DkdOptions o;
    o.temperature = read_temperature(node);
    o.alpha = node.get<double>("alpha", o.alpha, "weight of the target-class KL (TCKD)");
    o.beta = node.get<double>("beta", o.beta, "weight of the non-target KL (NCKD)");
    node.expect(o.alpha >= 0, "alpha", "a number >= 0");
    node.expect(o.beta >= 0, "beta", "a number >= 0");
    o.warmup_steps = node.get<int64_t>("warmup_steps", o.warmup_steps,
                                       "the term ramps in as min(step / warmup_steps, 1); 0: no warm-up");
    node.expect(o.warmup_steps >= 0, "warmup_steps", "an integer >= 0");
    return o;
  }
};

class DkdTerm : public DistillationTerm {
 public:
  explicit DkdTerm(const DkdOptions& o) : o_(o) {}
  torch::Tensor loss(const DistillationInputs& in) const override {
    const double ramp = o_.warmup_steps > 0
                            ? std::min(1.0, static_cast<double>(in.step) / static_cast<double>(o_.warmup_steps))
                            : 1.0;
    return ramp * dkd_loss(in.student, in.teacher, in.labels, o_.temperature, o_.alpha, o_.beta);
  }

 private:
  DkdOptions o_;
};

struct DistOptions {
  double tau = 1.0, beta = 1.0, gamma = 1.0;
  static DistOptions read(config::Node& node) {
    DistOptions o;
    o.tau = node.get<double>("tau", o.tau, "softmax temperature of DIST (its own; not objective.temperature)");
    node.expect(std::isfinite(o.tau) && o.tau > 0, "tau", "a number > 0");
    o.beta = node.get<double>("beta", o.beta, "weight of the inter-class relation (per sample, over classes)");
    o.gamma = node.get<double>("gamma", o.gamma, "weight of the intra-class relation (per class, over the batch)");
    node.expect(o.beta >= 0, "beta", "a number >= 0");
    node.expect(o.gamma >= 0, "gamma", "a number >= 0");
    return o;
  }
};

class DistTerm : public DistillationTerm {
 public:
  explicit DistTerm(const DistOptions& o) : o_(o) {}
  torch::Tensor loss(const DistillationInputs& in) const override {
    return dist_loss(in.student, in.teacher, o_.tau, o_.beta, o_.gamma);
  }
  bool couples_batch() const override { return true; }

 private:
  DistOptions o_;
};

struct BdKdOptions {
  double temperature = 4.0;
  BdKdBalanceOptions balance;
  static BdKdOptions read(config::Node& node) {
    BdKdOptions o;
    o.temperature = read_temperature(node);
    o.balance = BdKdBalanceOptions::read(node);
    return o;
  }
};

class BdKdTerm : public DistillationTerm {
 public:
  explicit BdKdTerm(const BdKdOptions& o) : o_(o), balance_(make_bd_kd_balance(o.balance)) {}
  torch::Tensor loss(const DistillationInputs& in) const override {
    return bd_kd_loss(in.student, in.teacher, o_.temperature, balance_);
  }

 private:
  BdKdOptions o_;
  DivergenceBalance balance_;
};

struct PldOptions {
  double teacher_temperature = 1.0;
  static PldOptions read(config::Node& node) {
    PldOptions o;
    o.teacher_temperature = node.get<double>("teacher_temperature", o.teacher_temperature,
                                             "tau_T of the weights softmax(t / tau_T) (the paper: 1 on ImageNet, 4 on "
                                             "CIFAR-100)");
    node.expect(std::isfinite(o.teacher_temperature) && o.teacher_temperature > 0, "teacher_temperature",
                "a number > 0");
    return o;
  }
};

class PldTerm : public DistillationTerm {
 public:
  explicit PldTerm(const PldOptions& o) : o_(o) {}
  torch::Tensor loss(const DistillationInputs& in) const override {
    return pld_loss(in.student, in.teacher, in.labels, o_.teacher_temperature);
  }

 private:
  PldOptions o_;
};

struct SinkdOptions {
  double temperature = 2.0, eps = 0.1, tolerance = 1e-6;
  int64_t iterations = 20, max_iterations = 1000;
  std::string form = "plain";
  static SinkdOptions read(config::Node& node) {
    SinkdOptions o;
    o.temperature = read_temperature(node, o.temperature);
    o.form = node.get_choice("form", o.form, {"plain", "log"},
                             "plain: the code's fixed iterations on exp(-C / eps), mass B, gradient through the "
                             "loop; log: log-domain Sinkhorn, marginals 1/B, envelope gradient");
    o.eps = node.get<double>("eps", o.eps, "entropic regularisation, in units of the L1 cost (in [0, 2])");
    node.expect(std::isfinite(o.eps) && o.eps > 0, "eps", "a number > 0");
    o.iterations = node.get<int64_t>("iterations", o.iterations, "plain: row and column normalisations");
    node.expect(o.iterations >= 1, "iterations", "an integer >= 1");
    o.tolerance = node.get<double>("tolerance", o.tolerance, "log: Sinkhorn's L1 marginal error to stop at");
    node.expect(o.tolerance > 0, "tolerance", "a number > 0");
    o.max_iterations = node.get<int64_t>("max_iterations", o.max_iterations, "log: cap on Sinkhorn updates");
    node.expect(o.max_iterations >= 1, "max_iterations", "an integer >= 1");
    return o;
  }
};

class SinkdTerm : public DistillationTerm {
 public:
  explicit SinkdTerm(const SinkdOptions& o) : o_(o) {}
  torch::Tensor loss(const DistillationInputs& in) const override {
    if (o_.form == "plain") return sinkd_plain_loss(in.student, in.teacher, o_.temperature, o_.eps, o_.iterations);
    return sinkd_loss(in.student, in.teacher, o_.temperature, o_.eps, o_.tolerance, o_.max_iterations);
  }
  bool couples_batch() const override { return true; }

 private:
  SinkdOptions o_;
};

}  // namespace

Registry<DistillationTerm>& distillation_term_registry() {
  static Registry<DistillationTerm> registry("distillation_terms");
  return registry;
}

void register_builtin_distillation_terms() {
  Registry<DistillationTerm>& r = distillation_term_registry();
  r.add_component<CeTerm, CeOptions>("ce", "cross-entropy to the labels (label smoothing optional)");
  r.add_component<DivergenceTerm<kd_loss>, TemperatureOptions>("kd", "Hinton's T^2 KL(p_t^T || p_s^T)");
  r.add_component<DivergenceTerm<reverse_kd_loss>, TemperatureOptions>("reverse_kd", "T^2 KL(p_s^T || p_t^T)");
  r.add_component<DivergenceTerm<js_loss>, TemperatureOptions>("js", "T^2 Jensen-Shannon divergence of p_t^T and p_s^T");
  r.add_component<DkdTerm, DkdOptions>(
      "dkd", "decoupled KD: T^2 (alpha TCKD + beta NCKD), ramped in over warmup_steps (mdistiller's dkd_loss)");
  r.add_component<DistTerm, DistOptions>(
      "dist", "DIST: tau^2 (beta inter-class + gamma intra-class Pearson distance) (torchdistill's DISTLoss)");
  r.add_component<BdKdTerm, BdKdOptions>(
      "bd_kd", "BD-KD: T^2 (lambda_f KL(p_t || p_s) + lambda_r KL(p_s || p_t)), weights per sample from the entropies");
  r.add_component<PldTerm, PldOptions>(
      "pld", "Plackett-Luce distillation: list-wise loss along the teacher's order with the label first");
  r.add_component<SinkdTerm, SinkdOptions>(
      "sinkd", "SinKD: Sinkhorn transport cost between the batch's student and teacher distributions (L1 cost)");
}

DistillationObjective::DistillationObjective(config::Node& node) {
  node.get_choice("type", "distillation", {"distillation"}, "the weighted sum of distillation terms");
  temperature_ = read_temperature(node, temperature_);
  config::Node terms = node.section("terms", "named, weighted terms (flowlab list distillation_terms)");
  for (const std::string& name : terms.keys()) {
    config::Node term = terms.section(name);
    const std::string type = term.has("type") ? term.require<std::string>("type") : name;
    const double weight = term.get<double>("weight", 1.0, "the term's weight in the sum");
    term.expect(std::isfinite(weight) && weight >= 0, "weight", "a number >= 0");
    distillation_term_registry().check_known(term, "type", type);
    // The objective's temperature for every term that has a temperature and does not set it.
    if (!term.has("temperature")) {
      for (const config::OptionDoc& option : distillation_term_registry().options(type)) {
        if (option.key == "temperature") term.apply_override("temperature=" + json_number(temperature_));
      }
    }
    if (term.has("type")) term.require<std::string>("type");
    terms_.push_back({name, weight, distillation_term_registry().create(type, term)});
  }
  if (terms_.empty() && !node.describing()) node.fail("terms", "give at least one term (e.g. kd: {weight: 1.0})");
}

std::vector<std::string> DistillationObjective::batch_coupled_terms() const {
  std::vector<std::string> names;
  for (const WeightedTerm& t : terms_) {
    if (t.term->couples_batch()) names.push_back(t.name);
  }
  return names;
}

torch::Tensor DistillationObjective::loss(const DistillationInputs& inputs,
                                          std::map<std::string, torch::Tensor>* parts) const {
  torch::Tensor total;
  for (const WeightedTerm& t : terms_) {
    const torch::Tensor value = t.term->loss(inputs);
    if (parts) (*parts)["loss_" + t.name] = value.detach();
    total = total.defined() ? total + t.weight * value : t.weight * value;
  }
  return total;
}

}  // namespace flowlab::distill
