#pragma once
// The distillation objective: a weighted sum of named terms between a student's and a teacher's
// logits, each term a component of the "distillation_terms" family (`flowlab list
// distillation_terms`).
//
//   objective:
//     type: distillation
//     temperature: 4            # every term with a `temperature` key takes it unless it sets its own
//     terms:
//       ce:  {weight: 1.0, label_smoothing: 0.0}
//       kd:  {weight: 1.0}
//       hot: {type: kd, temperature: 8, weight: 0.5}   # a second term of one type, named
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/registry.h"

namespace flowlab::distill {

/// What a term sees at one step: logits [B, K] (the teacher's detached), labels [B], the step (warm-ups).
struct DistillationInputs {
  torch::Tensor student, teacher, labels;
  int64_t step = 0;
};

class DistillationTerm {
 public:
  virtual ~DistillationTerm() = default;
  /// The term's loss, a differentiable scalar, before its weight.
  virtual torch::Tensor loss(const DistillationInputs& inputs) const = 0;
  /// Whether the term compares the samples of a batch with each other (not a mean over samples).
  virtual bool couples_batch() const { return false; }
};

/// The "distillation_terms" family: ce, kd, reverse_kd, js, dkd, dist, bd_kd, pld, sinkd.
Registry<DistillationTerm>& distillation_term_registry();
void register_builtin_distillation_terms();

class DistillationObjective {
 public:
  /// Reads an `objective:` section (type distillation): `temperature` and the `terms:` map. A term's
  /// name is its type unless it has a `type:` key. At least one term; weights >= 0.
  explicit DistillationObjective(config::Node& node);
  /// sum_k weight_k term_k, and into `parts` (when given) each term's unweighted value, as
  /// "loss_<name>" (detached scalars).
  torch::Tensor loss(const DistillationInputs& inputs, std::map<std::string, torch::Tensor>* parts = nullptr) const;
  double temperature() const { return temperature_; }
  /// The names of the terms that couple the samples of a batch (data-parallel processes compute
  /// them on their own shares).
  std::vector<std::string> batch_coupled_terms() const;

 private:
  struct WeightedTerm {
    std::string name;
    double weight;
    std::unique_ptr<DistillationTerm> term;
  };
  double temperature_ = 4.0;
  std::vector<WeightedTerm> terms_;
};

}  // namespace flowlab::distill
