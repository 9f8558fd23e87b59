#pragma once
// Sample-based distances between two point clouds x [N, d] and y [M, d]
// (images are flattened). Used by `flowlab eval` and during training.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>

#include "flowlab/core/registry.h"

namespace flowlab::ot {

class Metric {
 public:
  virtual ~Metric() = default;
  /// Distance between samples x and y; `gen` drives any randomness (projections).
  virtual double compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator& gen) const = 0;
};

/// The "metrics" family: energy_distance, sliced_w2, mmd, sinkhorn, exact_w2. register_builtin_metrics()
/// may be called more than once; only the first call registers.
Registry<Metric>& metric_registry();
void register_builtin_metrics();

}  // namespace flowlab::ot
