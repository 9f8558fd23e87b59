#pragma once
// Energy distance between two empirical measures (Székely & Rizzo).
#include <torch/types.h>

namespace flowlab::ot {

/// Energy distance between the empirical measures of x [N, ...] and y [M, ...]
/// (trailing dimensions are flattened to d):
///
///   D = sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|),
///
/// with Euclidean norms and V-statistics (means over all pairs, the diagonal
/// included), so D >= 0 and D = 0 exactly when the two point sets coincide as
/// measures. For d = 1 this is scipy.stats.energy_distance.
///
/// Computed in float64 on x's device, in row blocks so that large sets (20000 x
/// 20000) never hold the whole distance matrix. For d <= 16 distances are formed
/// from coordinate differences (exact); above, from |a|^2 + |b|^2 - 2 a.b, which
/// is much faster for images and accurate to about 1e-8 relative. No autograd.
double energy_distance(const torch::Tensor& x, const torch::Tensor& y);

}  // namespace flowlab::ot
