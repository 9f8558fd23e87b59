#include "flowlab/objectives/flow_matching.h"

#include <torch/torch.h>

namespace flowlab::objectives {

TimeSamplerOptions TimeSamplerOptions::read(config::Node& node) {
  TimeSamplerOptions o;
  o.type = node.get_choice("time_sampler", o.type, {"uniform", "logit_normal", "stratified"},
                           "distribution of the training times t");
  if (o.type == "logit_normal" || node.describing()) {
    o.logit_mean = node.get<double>("logit_mean", o.logit_mean, "logit_normal: mean of logit(t)");
    o.logit_std = node.get<double>("logit_std", o.logit_std, "logit_normal: std of logit(t)");
    node.expect(o.logit_std > 0, "logit_std", "a number > 0");
  }
  return o;
}

torch::Tensor sample_times(const TimeSamplerOptions& sampler, int64_t n, at::Generator& gen) {
  if (sampler.type == "logit_normal") {
    return torch::sigmoid(sampler.logit_mean + sampler.logit_std * torch::randn({n}, gen, torch::kFloat32));
  }
  if (sampler.type == "stratified") {
    const auto bins = torch::randperm(n, gen, torch::kLong).to(torch::kFloat32);
    return ((bins + torch::rand({n}, gen, torch::kFloat32)) / static_cast<double>(n)).clamp_max(1.0f);
  }
  return torch::rand({n}, gen, torch::kFloat32);
}

FlowMatchingOptions FlowMatchingOptions::read(config::Node& node) {
  FlowMatchingOptions o;
  o.time_sampler = TimeSamplerOptions::read(node);
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
