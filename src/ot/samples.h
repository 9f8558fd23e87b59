#pragma once
// Private helpers shared by the sample-based metrics (energy distance, MMD,
// sliced Wasserstein): input normalisation and blocked sums over all pairs.
#include <torch/types.h>

#include <functional>
#include <utility>

namespace flowlab::ot::detail {

/// x [N, ...] as a detached float64 [N, d] tensor on `device`; `what` names the
/// caller in shape errors. Requires N >= 1 and d >= 1.
torch::Tensor as_sample_matrix(const torch::Tensor& x, torch::Device device, const char* what);

/// Both clouds as float64 [N, d] and [M, d] on x's device; checks that they have
/// the same number of coordinates.
std::pair<torch::Tensor, torch::Tensor> as_sample_pair(const torch::Tensor& x, const torch::Tensor& y,
                                                       const char* what);

/// Euclidean distances between the rows of a [n, d] and b [m, d], as [n, m].
/// Small d: from coordinate differences (exact, zero on the diagonal of a set
/// with itself); large d: from |a|^2 + |b|^2 - 2 a.b (fast, ~1e-8 relative).
torch::Tensor pairwise_distances(const torch::Tensor& a, const torch::Tensor& b);

/// sum_{i,j} f(|a_i - b_j|) in float64, processing rows of a in blocks so that
/// no more than a few million distances exist at once. `f` maps a block of
/// distances to values of the same shape.
double sum_over_pairs(const torch::Tensor& a, const torch::Tensor& b,
                      const std::function<torch::Tensor(const torch::Tensor&)>& f);

}  // namespace flowlab::ot::detail
