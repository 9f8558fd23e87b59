#pragma once
// Sliced Wasserstein distance: optimal transport along random 1-D projections.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>

namespace flowlab::ot {

/// K directions drawn uniformly on the unit sphere in R^d, as columns of a
/// float64 [d, K] tensor on `device`. Drawn with `gen` (on gen's device).
torch::Tensor random_unit_directions(int64_t d, int64_t k, at::Generator& gen, torch::Device device = torch::kCPU);

/// W_p^p between the 1-D empirical measures of every column of xs [N, K] and
/// ys [M, K] (uniform weights), as a float64 [K] tensor. Equal sizes match sorted
/// values; unequal sizes integrate |F^-1(s) - G^-1(s)|^p exactly over the merged
/// grid of quantile levels {i/N} and {j/M}. Sorts internally.
torch::Tensor wasserstein_1d_pow(const torch::Tensor& xs, const torch::Tensor& ys, double p = 2.0);

/// Sliced Wasserstein distance between x [N, ...] and y [M, ...] (flattened to d):
///
///   SW_p = ( (1/K) sum_k W_p^p(theta_k # x, theta_k # y) )^(1/p),
///
/// the Monte-Carlo estimate over `n_projections` random unit directions theta_k
/// drawn with `gen`. Computed in float64 on x's device; no autograd.
double sliced_wasserstein(const torch::Tensor& x, const torch::Tensor& y, int64_t n_projections,
                          at::Generator& gen, double p = 2.0);

/// The same with explicit directions: `projections` [d, K], one direction per
/// column (used as given, not normalised) — ot.sliced_wasserstein_distance's
/// convention, for tests against POT.
double sliced_wasserstein(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& projections,
                          double p = 2.0);

}  // namespace flowlab::ot
