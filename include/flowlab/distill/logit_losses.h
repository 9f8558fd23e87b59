#pragma once
// Knowledge-distillation losses between a student's logits s [B, K] and a teacher's logits
// t [B, K] (and int64 labels y [B] where a loss needs them). Each returns the batch mean of a
// per-sample loss as a scalar, differentiable in both logits; the caller detaches the teacher.
// p^T = softmax(z / T). Sources and pitfalls: ../shared/reference/distill_ot.md and the README.
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace flowlab::distill {

/// Hinton et al. 2015: T^2 KL(p_t^T || p_s^T). Its gradient in s is T (p_s^T - p_t^T), which for
/// large T and zero-mean logits tends to (s - t) / K: why the T^2 is there.
torch::Tensor kd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature);
/// T^2 KL(p_s^T || p_t^T): mode-seeking.
torch::Tensor reverse_kd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature);
/// T^2 JS(p_t^T, p_s^T) = T^2 [KL(p_t | m) + KL(p_s | m)] / 2 with m the mixture: symmetric, <= T^2 log 2.
torch::Tensor js_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature);

/// The two halves of KD per sample (Zhao et al. 2022, DKD), without T^2: the target-class KL
/// KL(b_t || b_s) of the binary (p_y, 1 - p_y), and the non-target KL between the distributions
/// over the other classes renormalised. KL(p_t || p_s) = target + (1 - p_t,y) non_target exactly.
struct DkdParts {
  torch::Tensor target;      ///< TCKD per sample [B]
  torch::Tensor non_target;  ///< NCKD per sample [B]
  torch::Tensor teacher_target_probability;  ///< p_t,y [B]
};
DkdParts dkd_parts(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                   double temperature);
/// mdistiller's dkd_loss: T^2 (alpha TCKD + beta NCKD), batch mean (no cross-entropy, no warm-up).
torch::Tensor dkd_loss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                       double temperature, double alpha, double beta);

/// Huang et al. 2022, DIST (torchdistill's DISTLoss): with Y = softmax(z / tau),
/// tau^2 [beta (1 - mean_i pearson(Y_s[i, :], Y_t[i, :])) + gamma (1 - mean_k pearson(Y_s[:, k], Y_t[:, k]))].
/// A batch statistic (the intra-class term correlates over the batch), not a mean of per-sample terms.
torch::Tensor dist_loss(const torch::Tensor& student, const torch::Tensor& teacher, double tau, double beta,
                        double gamma);

/// Per-sample weights (lambda_forward, lambda_reverse) [B] of BD-KD from the entropies
/// H(p_s^T), H(p_t^T) [B].
using DivergenceBalance =
    std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor& student_entropy,
                                                          const torch::Tensor& teacher_entropy)>;
/// Amara et al. 2022, BD-KD: T^2 mean_i [lambda_f,i KL(p_t^T || p_s^T)_i + lambda_r,i KL(p_s^T || p_t^T)_i],
/// the weights from `balance` (the paper's rule: bd_kd_balance in the README), without gradient.
torch::Tensor bd_kd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature,
                         const DivergenceBalance& balance);

/// Bassam et al. 2025, PLD: the Plackett-Luce list-wise loss along pi* = (y, then the other classes by
/// descending teacher logit), weights alpha_k = softmax(t / tau_T)_{pi*_k}:
///   L = sum_k alpha_k [log sum_{l >= k} exp(s_{pi*_l}) - s_{pi*_k}].
/// No T^2, untempered student logits; convex and invariant to adding a constant to s.
torch::Tensor pld_loss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                       double teacher_temperature);

/// SinKD (Cui et al. 2024) as its code computes it: C_ij = |p_s,i^T - p_t,j^T|_1 over the batch
/// (B x B), K = exp(-C / eps), `iterations` times rows then columns normalised to 1, loss
/// sum_ij K_ij C_ij, the gradient through the unrolled loop. Not 0 at p_s = p_t (entropic blur).
torch::Tensor sinkd_plain_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature,
                               double eps, int64_t iterations);
/// The same cost in a sound form: <P*, C> with P* the entropic plan between uniform marginals 1/B
/// from flowlab's log-domain Sinkhorn (annealed, to `tolerance`, at most `max_iterations` updates),
/// the gradient P* (x) dC, the envelope-theorem gradient of the entropic value (no unrolling).
/// Throws Error when Sinkhorn does not converge.
torch::Tensor sinkd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature, double eps,
                         double tolerance, int64_t max_iterations);

/// Entropy H(softmax(z / T)) per row [B], nats.
torch::Tensor softmax_entropy(const torch::Tensor& logits, double temperature);

}  // namespace flowlab::distill
