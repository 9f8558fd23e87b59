#pragma once
// Minibatch couplings: which source point x0 each data point x1 is paired with.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <memory>

#include "flowlab/core/registry.h"
#include "flowlab/data/dataset.h"

namespace flowlab::objectives {

class Coupling {
 public:
  virtual ~Coupling() = default;
  /// The source batch reordered (or resampled) so that row i pairs with x1[i].
  /// x1 keeps its order and labels; `gen` (CPU) drives any sampling.
  virtual data::Batch pair(const data::Batch& x0, const data::Batch& x1, at::Generator& gen) const = 0;
  /// False for the independent coupling (nothing to do, no generator draws).
  virtual bool active() const { return true; }
  /// True when pairing reads labels on both sides (class_aware).
  virtual bool needs_labels() const { return false; }
};

/// The "couplings" family (the `coupling:` section):
///   independent  x0 and x1 as drawn (the default)
///   exact_ot     x0 permuted by the optimal assignment for |x0 - x1|^2 (Pooladian et al. 2023;
///                torchcfm's OT-CFM with ot.emd, without resampling)
///   sinkhorn_ot  for each x1[j], x0 drawn from the entropic plan's conditional P[:, j] / b_j
///                (Tong et al. 2023's SB-CFM / OT-CFM with sinkhorn)
/// With class_aware, pairs of different labels cost `class_penalty` times the
/// largest cost more, so they are made only when class counts differ.
Registry<Coupling>& coupling_registry();
void register_builtin_couplings();

}  // namespace flowlab::objectives
