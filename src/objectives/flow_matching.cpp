#include "flowlab/objectives/flow_matching.h"

#include <torch/torch.h>

namespace flowlab::objectives {

torch::Tensor sample_times(const std::string& sampler, int64_t n, at::Generator& gen) {
  if (sampler == "uniform") return torch::rand({n}, gen, torch::kFloat32);
  throw Error("unknown time sampler '" + sampler + "'");
}

FlowMatchingOptions FlowMatchingOptions::read(config::Node& node) {
  FlowMatchingOptions o;
  o.time_sampler = node.get_choice("time_sampler", o.time_sampler, {"uniform"}, "distribution of t");
  return o;
}

torch::Tensor FlowMatching::loss(nn::Network& network, const paths::Path& path, const torch::Tensor& x0,
                                 const torch::Tensor& x1, at::Generator& gen) const {
  const int64_t batch = x1.size(0);
  const torch::Tensor t = sample_times(options_.time_sampler, batch, gen).to(x1.device(), x1.scalar_type());
  torch::Tensor z;
  if (!path.deterministic()) z = torch::randn(x1.sizes(), gen, torch::kFloat32).to(x1.device(), x1.scalar_type());
  const paths::PathSample s = path.sample(x0, x1, t, z);
  const torch::Tensor target = path.target(network.prediction(), s);
  return torch::mse_loss(network.forward(s.x_t, t), target);
}

Registry<Objective>& objective_registry() {
  static Registry<Objective> registry("objectives");
  return registry;
}

void register_builtin_objectives() {
  objective_registry().add_component<FlowMatching, FlowMatchingOptions>(
      "flow_matching", "regression onto the path's target for the network's prediction (mean squared error)");
}

}  // namespace flowlab::objectives
