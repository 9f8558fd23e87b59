#pragma once
// The posterior mean of a finite dataset under Gaussian noise: for data x_1..x_n and
// y = x1 + z/s (z ~ N(0, I), x1 uniform on the data),
//   E[x1 | y] = sum_i w_i x_i,   w = softmax_i(-s^2 |y - x_i|^2 / 2).
// On a Gaussian path x_t = a x1 + m x0 this is E[x1 | x_t] with y = x_t/a and s = a/m,
// so it gives the exact marginal field of the empirical distribution, and the data
// separation function is built from it.
#include <torch/types.h>

namespace flowlab::paths {

/// E[x1 | x1 + z/s = y] for data [n, d] and y [B, d], with s [B] (> 0) or a scalar; computed in
/// float64 in blocks of rows so that memory stays O(block * n). Returns [B, d] in float64.
torch::Tensor empirical_posterior_mean(const torch::Tensor& data, const torch::Tensor& y, const torch::Tensor& s);

}  // namespace flowlab::paths
