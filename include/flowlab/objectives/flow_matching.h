#pragma once
#include "flowlab/objectives/objective.h"

namespace flowlab::objectives {

struct FlowMatchingOptions {
  TimeSamplerOptions time_sampler;
  static FlowMatchingOptions read(config::Node& node);
};

/// Regression of the network output onto the path's target for the network's
/// prediction type: loss = mean over batch and features of (f(x_t, t) - target)^2,
/// with t from the time sampler and x_t = alpha x0 + beta x1 + gamma z.
class FlowMatching : public Objective {
 public:
  explicit FlowMatching(const FlowMatchingOptions& options) : options_(options) {}
  torch::Tensor loss(nn::Network& network, const paths::Path& path, const torch::Tensor& x0,
                     const torch::Tensor& x1, at::Generator& gen) const override;

 private:
  FlowMatchingOptions options_;
};

}  // namespace flowlab::objectives
