#pragma once
// f-divergence distribution matching (Xu, Nie & Vahdat 2025, "One-step Diffusion Models with
// f-Divergence Distribution Matching"; reverse KL is DMD/DMD2). A one-step generator x = G(z)
// is pushed along h(r) (s_fake - s_teacher), with r = p_teacher / q_generator at the noised
// sample and h(r) = f''(r) r^2; r comes from a discriminator whose optimal logit is log r.
// Formulas and reference values: ../shared/reference/distill_ot.md section 1 and 8.12.
#include <torch/types.h>

#include <string>
#include <vector>

#include "flowlab/data/batch_shard.h"

namespace flowlab::distill {

enum class Divergence { kReverseKl, kSoftenedReverseKl, kJensenShannon, kSquaredHellinger, kForwardKl, kJeffreys };

/// The config names, in Table 1's order: reverse_kl, softened_rkl, jensen_shannon, squared_hellinger,
/// forward_kl, jeffreys.
const std::vector<std::string>& divergence_names();
/// Throws Error for an unknown name.
Divergence divergence_from_name(const std::string& name);
const std::string& divergence_name(Divergence divergence);

/// f(r) of the divergence D_f(p || q) = E_q f(p / q) (Table 1), elementwise, r > 0.
torch::Tensor f_of_ratio(Divergence divergence, const torch::Tensor& r);
/// h(r) = f''(r) r^2, the weight of the score difference (Table 1; Hellinger with its 1/4).
torch::Tensor weight_of_ratio(Divergence divergence, const torch::Tensor& r);

/// r = exp(clamp(logit, -10, 10)) clamped to [0.1, 20]: the density ratio from a discriminator
/// logit (per sample: logits [B, ...] are averaged over all but the first dimension first), as
/// the reference code bounds it.
torch::Tensor ratio_from_logits(const torch::Tensor& logits);

/// The first stage of the paper's two-stage normalisation: r divided by the mean r of its time
/// bin (equal-width bins over [t_min, t_max]), each bin's mean an EMA across calls
/// (mean = ema * previous + (1 - ema) * batch mean; ema 0 uses the batch alone). Bins empty in a
/// batch keep their previous mean.
class RatioNormaliser {
 public:
  RatioNormaliser(int64_t bins, double ema, double t_min, double t_max);
  /// r [B] at times t [B] -> r / (bin mean + 1e-6); updates the bin means. With data-parallel
  /// processes, `shard` sums each bin's count and sum over them, so every process keeps the
  /// whole batch's means.
  torch::Tensor normalise(const torch::Tensor& r, const torch::Tensor& t, const data::BatchShard& shard = {});
  /// Bin means [bins] (float64; 0 before a bin is seen) and whether each was seen, for checkpoints.
  const torch::Tensor& means() const { return means_; }
  const torch::Tensor& seen() const { return seen_; }
  void load(const torch::Tensor& means, const torch::Tensor& seen);

 private:
  int64_t bins_;
  double ema_, t_min_, t_max_;
  torch::Tensor means_, seen_;
};

/// The generator's distribution-matching loss of the reference code, whose gradient in x is
///   h (x1_fake - x1_teacher) / (mean over a sample's coordinates of |x - x1_teacher| + 1e-6),
/// divided by x.numel(): 0.5 mean((x - sg(x - g))^2) with g that weighted difference. x [B, ...]
/// are generated samples, x1_fake and x1_teacher the fake score's and the teacher's data
/// estimates E[x1 | x_t] at the noised x_t, h [B] the weights (already normalised; 1 for
/// reverse KL, which makes this DMD2's loss).
torch::Tensor distribution_matching_loss(const torch::Tensor& x, const torch::Tensor& x1_fake,
                                         const torch::Tensor& x1_teacher, const torch::Tensor& h);

/// The discriminator's non-saturating GAN loss, mean softplus(l_fake) + mean softplus(-l_real):
/// its optimum is l = log(p_real / p_fake).
torch::Tensor discriminator_loss(const torch::Tensor& logit_real, const torch::Tensor& logit_fake);
/// The generator's GAN term, mean softplus(-l_fake).
torch::Tensor generator_gan_loss(const torch::Tensor& logit_fake);

}  // namespace flowlab::distill
