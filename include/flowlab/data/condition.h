#pragma once
// What a sample is conditioned on. It travels with x and t through networks,
// models, model functions and the fields built from them. Today: class labels;
// a continuous condition vector (text or image features) will sit beside them.
#include <torch/types.h>

#include <cstdint>

namespace flowlab::data {

/// The label that asks a conditional network for its unconditional field (the null
/// class of classifier-free guidance).
constexpr int64_t kNullClass = -1;

struct Condition {
  /// int64 [B] class labels in [0, num_classes) or kNullClass; undefined: no condition.
  torch::Tensor labels;

  bool empty() const { return !labels.defined(); }
  /// Rows begin .. end - 1 (an empty condition stays empty).
  Condition slice(int64_t begin, int64_t end) const;
  /// The rows `index` (int64 [b]) in that order; an undefined index keeps every row.
  Condition rows(const torch::Tensor& index) const;
  /// The same condition on `device`.
  Condition to(const torch::Device& device) const;
  /// The condition repeated along the batch: [c; c] for an antithetic or doubled batch.
  Condition repeat(int64_t times) const;
};

/// Labels [n] that all ask for the unconditional field.
Condition null_condition(int64_t n, const torch::Device& device = torch::kCPU);

/// [a; b] along the batch. Both empty gives an empty condition; a defined and an empty part
/// is an error (a batch is either conditioned or not).
Condition concat(const Condition& a, const Condition& b);

}  // namespace flowlab::data
