#pragma once
// Maximum mean discrepancy with a Gaussian (RBF) kernel.
#include <torch/types.h>

namespace flowlab::ot {

/// Median heuristic bandwidth: the median (numpy's, averaging the two middle
/// values) of the distances |z_i - z_j|, i < j, over the pooled sample
/// z = [x; y], flattened to [N + M, d]. Above 2048 pooled points it uses 2048
/// evenly spaced ones, so the cost stays bounded. Returns 1 when every distance
/// is zero.
double median_bandwidth(const torch::Tensor& x, const torch::Tensor& y);

/// Squared MMD between x [N, ...] and y [M, ...] with the kernel
/// k(a, b) = exp(-|a - b|^2 / (2 h^2)):
///
///   unbiased (default): sum_{i!=j} k(x_i, x_j) / (N(N-1)) + sum_{i!=j} k(y_i, y_j) / (M(M-1))
///                       - 2 sum_{i,j} k(x_i, y_j) / (NM)        (needs N, M >= 2; may be < 0)
///   biased:             the same with all pairs and N^2, M^2     (always >= 0)
///
/// `bandwidth` h > 0 is used as given; h <= 0 selects median_bandwidth(x, y).
/// Computed in float64 on x's device, in row blocks; no autograd.
double mmd(const torch::Tensor& x, const torch::Tensor& y, double bandwidth = 0.0, bool biased = false);

}  // namespace flowlab::ot
