#include "flowlab/objectives/flow_matching.h"
#include "flowlab/objectives/monge_map.h"

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

LossWeightOptions LossWeightOptions::read(config::Node& node) {
  LossWeightOptions o;
  o.type = node.get_choice("weighting", o.type, {"none", "snr", "min_snr", "sigmoid"},
                           "per-time loss weight w(t) from SNR = beta^2/(alpha^2 + gamma^2)");
  if (o.type == "min_snr" || node.describing()) {
    o.snr_gamma = node.get<double>("snr_gamma", o.snr_gamma, "min_snr: w = min(SNR, snr_gamma) / SNR");
    node.expect(o.snr_gamma > 0, "snr_gamma", "a number > 0");
  }
  if (o.type == "sigmoid" || node.describing()) {
    o.sigmoid_bias = node.get<double>("sigmoid_bias", o.sigmoid_bias, "sigmoid: w = sigmoid(sigmoid_bias - log SNR)");
  }
  return o;
}

torch::Tensor loss_weights(const LossWeightOptions& options, const paths::Path& path, const torch::Tensor& t) {
  if (options.type == "none") return torch::ones_like(t);
  const double clip = path.clip();
  const paths::Coefficients c = path.at(t.clamp(clip, 1.0 - clip));
  const torch::Tensor snr = c.beta * c.beta / (c.alpha * c.alpha + c.gamma * c.gamma);
  if (options.type == "snr") return snr;
  // min(SNR, g) / SNR written as min(1, g / SNR): finite (1) where SNR = 0.
  if (options.type == "min_snr") return torch::clamp_max(options.snr_gamma / snr, 1.0);
  return torch::sigmoid(options.sigmoid_bias - torch::log(snr));
}

FlowMatchingOptions FlowMatchingOptions::read(config::Node& node) {
  FlowMatchingOptions o;
  o.time_sampler = TimeSamplerOptions::read(node);
  o.weighting = LossWeightOptions::read(node);
  o.antithetic = node.get<bool>("antithetic", o.antithetic,
                                "average the loss over z and -z (one-sided paths: x0 and -x0)");
  o.label_dropout = node.get<double>("label_dropout", o.label_dropout,
                                     "class-conditional models: probability that a label becomes the null class, so "
                                     "the unconditional field is learnt too (classifier-free guidance)");
  node.expect(o.label_dropout >= 0 && o.label_dropout < 1, "label_dropout", "a number in [0, 1)");
  return o;
}

void FlowMatching::check_path(const paths::Path& path) const {
  if (options_.antithetic && path.deterministic() && !path.gaussian_source()) {
    throw Error("antithetic pairs mirror the latent z, and this path has gamma = 0 and a non-Gaussian source");
  }
}

torch::Tensor FlowMatching::loss(nn::Model& model, const paths::Path& path, const torch::Tensor& x0,
                                 const torch::Tensor& x1, at::Generator& gen, const data::Condition& condition,
                                 const data::BatchShard& shard) const {
  // Every draw is made for the whole batch; this process keeps its shard's rows.
  const int64_t batch = shard.whole_size(x1.size(0));
  data::Condition c = condition;
  // Drawn only with dropout, so unconditional and dropout-free runs keep their stream.
  if (!c.empty() && options_.label_dropout > 0) {
    const torch::Tensor dropped =
        shard.take(torch::rand({batch}, gen, torch::kFloat32) < options_.label_dropout).to(c.labels.device());
    c.labels = torch::where(dropped, torch::full_like(c.labels, data::kNullClass), c.labels);
  }
  const auto like_x = [&](const torch::Tensor& v) { return shard.take(v).to(x1.device(), x1.scalar_type()); };
  torch::Tensor t = like_x(sample_times(options_.time_sampler, batch, gen));
  torch::Tensor z;
  if (!path.deterministic()) z = like_x(torch::randn(shard.whole_sizes(x1.sizes()), gen, torch::kFloat32));
  torch::Tensor source = x0, data = x1;
  if (options_.antithetic) {
    check_path(path);
    // The mirrored half: -z, and on Gaussian-source paths also -x0 (x0 is noise there).
    source = torch::cat({x0, path.gaussian_source() ? -x0 : x0});
    data = torch::cat({x1, x1});
    t = torch::cat({t, t});
    if (z.defined()) z = torch::cat({z, -z});
    c = c.repeat(2);
  }
  const paths::PathSample s = path.sample(source, data, t, z);
  const bool weighted = options_.weighting.type != "none";
  const torch::Tensor weights = weighted ? loss_weights(options_.weighting, path, t).to(x1.scalar_type()) : torch::Tensor();
  torch::Tensor total;
  for (const auto& [kind, output] : model.forward(s.x_t, t, c)) {
    const torch::Tensor target = path.target(kind, s);
    // Unweighted: the mean over samples of per-sample means is the mean of all squares (one
    // fused operation, forward and backward).
    const torch::Tensor term = weighted ? (weights * (output - target).pow(2).flatten(1).mean(1)).mean()
                                        : torch::mse_loss(output, target);
    total = total.defined() ? total + term : term;
  }
  return total;
}

Registry<Objective>& objective_registry() {
  static Registry<Objective> registry("objectives");
  return registry;
}

void register_builtin_objectives() {
  objective_registry().add_component<FlowMatching, FlowMatchingOptions>(
      "flow_matching",
      "regression of each predicted field onto its target on the path (mean squared error), "
      "optional SNR weights and antithetic latents");
  objective_registry().add_component<MongeMap, MongeMapOptions>(
      "monge_map",
      "task monge_map: T(x) = x + f(x, 0) fitted by a Sinkhorn divergence plus lambda times the Monge gap");
}

}  // namespace flowlab::objectives
