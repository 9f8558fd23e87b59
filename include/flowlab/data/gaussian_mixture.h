#pragma once
// A Gaussian mixture p(x) = sum_k w_k N(x; mu_k, Sigma_k) in any dimension,
// registered as "gaussian_mixture". Its log-density and score are closed-form,
// which makes it the oracle for samplers, likelihoods and score models.
//
// Config (config::Node reads flat lists, so matrices are written row-major):
//   type: gaussian_mixture
//   dim: 2                          # d
//   means: [-2, 0,  2, 0]           # K*d numbers, component after component
//   weights: [0.3, 0.7]             # K numbers >= 0 summing to 1; default uniform
//   stds: [0.5, 1.0]                # isotropic: K numbers (or one for all) ...
//   covariances: [1, 0, 0, 1, ...]  # ... or K*d*d numbers, K row-major d x d
//                                   #     symmetric positive definite matrices
// With neither stds nor covariances every component has identity covariance.
#include <torch/types.h>

#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"

namespace flowlab::data {

struct GaussianMixtureOptions {
  int64_t dim = 0;
  std::vector<double> weights;      ///< K, or empty for uniform
  std::vector<double> means;        ///< K*d
  std::vector<double> stds;         ///< K or 1, or empty
  std::vector<double> covariances;  ///< K*d*d, or empty
  static GaussianMixtureOptions read(config::Node& node);
};

class GaussianMixture : public Dataset, public AnalyticDensity {
 public:
  /// weights [K] (>= 0, summing to 1), means [K, d], covariances [K, d, d]
  /// (symmetric positive definite). Checked with TORCH_CHECK.
  GaussianMixture(const torch::Tensor& weights, const torch::Tensor& means, const torch::Tensor& covariances);
  explicit GaussianMixture(const GaussianMixtureOptions& options);

  std::vector<int64_t> sample_shape() const override { return {dim()}; }
  /// Component k ~ Categorical(w), then mu_k + L_k eps with Sigma_k = L_k L_k^T; the label is k.
  Batch sample(int64_t n, at::Generator& gen) const override;
  /// Labelled by component: label k for a draw from component k.
  int64_t num_classes() const override { return num_components(); }

  /// log p(x) for x [B, d] -> [B], in x's floating dtype (computed in float64);
  /// differentiable with respect to x.
  torch::Tensor log_prob(const torch::Tensor& x) const override;
  /// grad_x log p(x) = -sum_k r_k(x) Sigma_k^{-1} (x - mu_k), with r_k the
  /// posterior component probabilities; x [B, d] -> [B, d] in x's dtype.
  torch::Tensor score(const torch::Tensor& x) const override;

  int64_t dim() const { return means_.size(1); }
  int64_t num_components() const { return means_.size(0); }
  /// Parameters as float64: [K], [K, d], [K, d, d].
  const torch::Tensor& weights() const { return weights_; }
  const torch::Tensor& means() const { return means_; }
  const torch::Tensor& covariances() const { return covariances_; }
  /// Closed-form moments of the mixture: [d] and [d, d], float64.
  torch::Tensor mean() const;
  torch::Tensor covariance() const;

 private:
  // Log-densities of each component plus log-weights: [B, K]; `centred` gets x - mu_k [B, K, d].
  torch::Tensor joint_log_probs(const torch::Tensor& x64, torch::Tensor* centred) const;

  torch::Tensor weights_, means_, covariances_;
  torch::Tensor cholesky_;       // L_k, lower triangular [K, d, d]
  torch::Tensor inv_cholesky_;   // L_k^{-1} [K, d, d]
  torch::Tensor precisions_;     // Sigma_k^{-1} [K, d, d]
  torch::Tensor log_normalizer_; // log w_k - (d log(2 pi) + log det Sigma_k) / 2 [K]
};

}  // namespace flowlab::data
