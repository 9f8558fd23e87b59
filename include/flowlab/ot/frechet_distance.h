#pragma once
// Fréchet distance between the Gaussians fitted to two point clouds: the
// formula of FID (Heusel et al. 2017), for any features.
#include <torch/types.h>

#include <cstdint>

namespace flowlab::ot {

/// The Gaussian fitted to a cloud: what FID keeps of a set, so a reference
/// set's statistics can be computed once and reused.
struct FrechetStatistics {
  torch::Tensor mean;        ///< [d], float64
  torch::Tensor covariance;  ///< [d, d], float64, symmetric; unbiased (divided by N - 1)
  int64_t count = 0;         ///< N, the number of samples (0 for statistics given directly)
};

/// Mean and unbiased covariance of features [N, ...] (trailing dimensions
/// flattened to d), in float64 whatever the input dtype, on the input's device.
/// Throws flowlab::Error when N < 2: one sample has no covariance.
FrechetStatistics frechet_statistics(const torch::Tensor& features);

/// Squared Fréchet (W2) distance between N(mu_a, S_a) and N(mu_b, S_b):
///
///   |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^{1/2}),
///
/// in float64 on a's device; covariances must be symmetric positive semidefinite.
/// tr (S_a S_b)^{1/2} comes from symmetric eigendecompositions only:
/// A = S_a^{1/2} (eigh, negative eigenvalues clamped to 0), then the sum of
/// sqrt(max(eig(A S_b A), 0)). A S_b A is similar to S_a S_b, so this equals the
/// trace of scipy.linalg.sqrtm(S_a S_b) that pytorch-fid uses, without sqrtm's
/// complex results and imaginary parts on a non-symmetric, nearly singular
/// product. Rounding that leaves the value below 0 is clamped to 0.
/// Returns NaN when a statistic is not finite.
double frechet_distance(const FrechetStatistics& a, const FrechetStatistics& b);

/// frechet_distance of the statistics of x [N, ...] and y [M, ...].
///
/// Estimated from samples, the value is biased upward (zero only for identical
/// moments) and the bias shrinks as N grows, as for FID: compare values only
/// at equal N, M and features. Needs N, M >= 2; N > d for a full-rank covariance.
double frechet_distance(const torch::Tensor& x, const torch::Tensor& y);

}  // namespace flowlab::ot
