#pragma once
// Intrinsic dimension from the score spectrum (Stanczuk, Batzolis, Deveney & Schoenlieb 2022):
// at small noise the score points from x towards the data manifold, s ~ -(x - pi(x)) / sigma^2,
// so scores at points x0 + sigma z_i around a data point x0 span the normal space (dimension
// D - k) and have little energy in the tangent space. With S the [K, D] matrix of scores,
// centred over rows, and singular values s_1 >= ... >= s_D, the largest gap s_j - s_{j+1} sits
// at j = D - k: k_hat = D - argmax_j (s_j - s_{j+1}).
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "flowlab/diagnostics/jacobian.h"

namespace flowlab::diagnostics {

struct SpectrumDimension {
  torch::Tensor dimension;        ///< k_hat per centre [P] (int64)
  torch::Tensor singular_values;  ///< [P, D] float64, decreasing
};

/// For each centre c [P, D] (already at the noise level's mean, e.g. beta(t) x1 on a path), the
/// score `score` at c + sigma z_i for `samples` draws z_i ~ N(0, I) (K >= D recommended).
SpectrumDimension score_spectrum_dimension(const PointField& score, const torch::Tensor& centres, double sigma,
                                           int64_t samples, at::Generator& gen);

}  // namespace flowlab::diagnostics
