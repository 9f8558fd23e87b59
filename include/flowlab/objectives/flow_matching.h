#pragma once
// Regression of each predicted field onto the path's target for it: the
// quadratic losses of the interpolant framework (L_b, L_v, L_eta, L_s and their
// one-sided forms) written as mean squared errors, which differ from them by
// constants only.
#include <string>

#include "flowlab/objectives/objective.h"

namespace flowlab::objectives {

/// Per-time loss weights w(t), functions of SNR(t) = beta^2 / (alpha^2 + gamma^2).
struct LossWeightOptions {
  std::string type = "none";  ///< none | snr | min_snr | sigmoid
  double snr_gamma = 5.0;     ///< min_snr: w = min(SNR, snr_gamma) / SNR (Hang et al. 2023)
  double sigmoid_bias = 0.0;  ///< sigmoid: w = sigmoid(sigmoid_bias - log SNR) (Kingma & Gao 2023)
  static LossWeightOptions read(config::Node& node);
};

/// w(t) [B] on `path`, for times t [B]; t is kept inside the path's clip so SNR stays finite.
torch::Tensor loss_weights(const LossWeightOptions& options, const paths::Path& path, const torch::Tensor& t);

struct FlowMatchingOptions {
  TimeSamplerOptions time_sampler;
  LossWeightOptions weighting;
  /// Also evaluate at the mirrored latent (z -> -z; one-sided paths: x0 -> -x0) and average,
  /// as the interpolants reference code does; lowers the variance of L_b and L_s.
  bool antithetic = false;
  /// Probability that a label becomes the null class (classifier-free guidance training).
  double label_dropout = 0.0;
  static FlowMatchingOptions read(config::Node& node);
};

/// loss = sum over fields of mean over the batch of w(t) * mean over features of
/// (f(x_t, t | c) - target)^2, with t from the time sampler and x_t = alpha x0 + beta x1 + gamma z;
/// each label c becomes the null class with probability label_dropout.
class FlowMatching : public Objective {
 public:
  explicit FlowMatching(const FlowMatchingOptions& options) : options_(options) {}
  torch::Tensor loss(nn::Model& model, const paths::Path& path, const torch::Tensor& x0, const torch::Tensor& x1,
                     at::Generator& gen, const data::Condition& condition = {},
                     const data::BatchShard& shard = {}) const override;
  /// Throws Error when the options do not apply to `path` (antithetic pairs need a latent).
  void check_path(const paths::Path& path) const override;
  bool trains_unconditional() const override { return options_.label_dropout > 0; }

 private:
  FlowMatchingOptions options_;
};

}  // namespace flowlab::objectives
