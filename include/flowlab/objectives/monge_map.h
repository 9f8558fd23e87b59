#pragma once
// The objective of `task: monge_map`: a map T(x) = x + v(x, 0) from the source to
// the data, fitted by a Sinkhorn divergence and kept optimal by the Monge gap.
#include "flowlab/objectives/objective.h"
#include "flowlab/ot/sinkhorn.h"

namespace flowlab::objectives {

struct MongeMapOptions {
  ot::SinkhornOptions fit;  ///< the debiased divergence S(T#source, data) (kl value)
  ot::SinkhornOptions gap;  ///< the Monge gap's inner problem
  double lambda = 1.0;      ///< weight of the Monge gap; 0 fits by the divergence alone
  static MongeMapOptions read(config::Node& node);
};

/// loss = S_eps(T(x0), x1) + lambda M_eps(T) on each batch (Uscidda & Cuturi 2023),
/// with T(x) = x + f(x, t = 0) for the model's first field f, so that one Euler
/// step of the "velocity" f from t = 0 to 1 is the map: `flowlab sample` with
/// sample.solver euler and steps 1 applies T. OT runs in float64; gradients
/// come from the envelope theorem.
class MongeMap : public Objective {
 public:
  explicit MongeMap(const MongeMapOptions& options) : options_(options) {}
  torch::Tensor loss(nn::Model& model, const paths::Path& path, const torch::Tensor& x0, const torch::Tensor& x1,
                     at::Generator& gen, const data::Condition& condition = {},
                     const data::BatchShard& shard = {}) const override;
  /// The Sinkhorn divergence and the Monge gap compare whole batches.
  bool couples_batch() const override { return true; }

 private:
  MongeMapOptions options_;
  mutable bool warned_ = false;
};

}  // namespace flowlab::objectives
