#pragma once
// Sample-based distances between two point clouds x [N, d] and y [M, d]
// (images are flattened), computed in the inputs' dtype and on their device.
// One registry for every caller: `flowlab eval`, evaluations during training,
// `flowlab diagnose` and `flowlab ot`.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>

#include "flowlab/core/registry.h"
#include "flowlab/io/json.h"

namespace flowlab::ot {

/// One computation of a metric: its value and what the metric knows about it.
struct Measurement {
  double value = 0.0;
  /// An iterative metric (sinkhorn) met its tolerance; always true for the others.
  bool converged = true;
  /// The value is the distance: converged, or certified within the metric's value_tolerance.
  bool accepted = true;
  /// A certified bound on |value - the exact value at these settings|; 0 for a closed form.
  double value_bound = 0.0;
  std::string description;  ///< what was computed: "Sinkhorn divergence (sqeuclidean, kl, eps 0.01)"
  std::string report;       ///< how an iterative computation went ("" for a closed form)
  io::JsonObject details;   ///< the metric's settings and own numbers, for JSON reports
};

class Metric {
 public:
  virtual ~Metric() = default;
  /// The distance between samples x and y; `gen` drives any randomness (projections).
  virtual Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator& gen) const = 0;
  /// measure()'s value when accepted, else NaN with a warning: never a number that is not the distance.
  double compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator& gen) const;
};

/// The "metrics" family: energy_distance, exact, exact_w2, frechet, mmd, precision, recall,
/// sinkhorn, sliced_w2. In measure(x, y), x are the model's samples (flowlab ot: the first
/// file) and y the data: precision and recall, unlike the others, are not symmetric.
/// register_builtin_metrics() may be called more than once; only the first call registers.
Registry<Metric>& metric_registry();
void register_builtin_metrics();

}  // namespace flowlab::ot
