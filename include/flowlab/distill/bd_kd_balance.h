#pragma once
// The per-sample balance of BD-KD's forward and reverse KL (Amara et al. 2022, arXiv 2212.12965):
// weights (lambda_f, lambda_r) from the entropies H_s = H(p_s^T), H_t = H(p_t^T) of each sample.
// The paper states that the weighting is per sample and driven by the entropy gap so as to balance
// the student's confidence; its exact rule and constants could not be retrieved for flowlab
// (README, "BD-KD"), so the rule is an option and the default is flowlab's reading of it:
//
//   entropy_switch (default): a student less confident than its teacher (H_s > H_t) is pulled by
//     the mode-seeking reverse KL, an over-confident one (H_s <= H_t) by the mass-covering
//     forward KL: lambda = 1 for that direction and `minor_weight` for the other.
//   sigmoid: lambda_r = sigmoid(sharpness (H_s - H_t)), lambda_f = 1 - lambda_r (a smooth switch).
//   constant: lambda_f = forward_weight, lambda_r = reverse_weight for every sample.
#include <string>

#include "flowlab/config/node.h"
#include "flowlab/distill/logit_losses.h"

namespace flowlab::distill {

struct BdKdBalanceOptions {
  std::string rule = "entropy_switch";
  double minor_weight = 0.0;
  double sharpness = 1.0;
  double forward_weight = 0.5, reverse_weight = 0.5;
  static BdKdBalanceOptions read(config::Node& node);
};

DivergenceBalance make_bd_kd_balance(const BdKdBalanceOptions& options);

}  // namespace flowlab::distill
