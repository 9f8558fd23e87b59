#include "flowlab/distill/bd_kd_balance.h"

#include <torch/torch.h>

#include <cmath>

namespace flowlab::distill {

BdKdBalanceOptions BdKdBalanceOptions::read(config::Node& node) {
  BdKdBalanceOptions o;
  o.rule = node.get_choice("rule", o.rule, {"entropy_switch", "sigmoid", "constant"},
                           "how the entropies weigh forward and reverse KL per sample (README: BD-KD)");
  o.minor_weight = node.get<double>("minor_weight", o.minor_weight,
                                    "entropy_switch: weight of the direction not chosen");
  node.expect(std::isfinite(o.minor_weight) && o.minor_weight >= 0, "minor_weight", "a number >= 0");
  o.sharpness = node.get<double>("sharpness", o.sharpness, "sigmoid: slope in the entropy gap H_s - H_t (nats)");
  node.expect(std::isfinite(o.sharpness) && o.sharpness > 0, "sharpness", "a number > 0");
  o.forward_weight = node.get<double>("forward_weight", o.forward_weight, "constant: lambda_f");
  o.reverse_weight = node.get<double>("reverse_weight", o.reverse_weight, "constant: lambda_r");
  node.expect(o.forward_weight >= 0, "forward_weight", "a number >= 0");
  node.expect(o.reverse_weight >= 0, "reverse_weight", "a number >= 0");
  return o;
}

DivergenceBalance make_bd_kd_balance(const BdKdBalanceOptions& o) {
  if (o.rule == "entropy_switch") {
    return [minor = o.minor_weight](const torch::Tensor& hs, const torch::Tensor& ht) {
      const torch::Tensor less_confident = (hs > ht).to(hs.scalar_type());
      const torch::Tensor reverse = less_confident + minor * (1 - less_confident);
      const torch::Tensor forward = (1 - less_confident) + minor * less_confident;
      return std::make_pair(forward, reverse);
    };
  }
  if (o.rule == "sigmoid") {
    return [k = o.sharpness](const torch::Tensor& hs, const torch::Tensor& ht) {
      const torch::Tensor reverse = torch::sigmoid(k * (hs - ht));
      return std::make_pair(1 - reverse, reverse);
    };
  }
  return [f = o.forward_weight, r = o.reverse_weight](const torch::Tensor& hs, const torch::Tensor&) {
    return std::make_pair(torch::full_like(hs, f), torch::full_like(hs, r));
  };
}

}  // namespace flowlab::distill
