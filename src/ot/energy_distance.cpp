#include "flowlab/ot/energy_distance.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "samples.h"

namespace flowlab::ot {
namespace {

// E|A - B| over all pairs (the V-statistic mean).
double mean_distance(const torch::Tensor& a, const torch::Tensor& b) {
  const double sum = detail::sum_over_pairs(a, b, [](const torch::Tensor& distances) { return distances; });
  return sum / (static_cast<double>(a.size(0)) * static_cast<double>(b.size(0)));
}

}  // namespace

double energy_distance(const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  const auto [a, b] = detail::as_sample_pair(x, y, "energy_distance");
  const double squared = 2.0 * mean_distance(a, b) - mean_distance(a, a) - mean_distance(b, b);
  // The V-statistic is >= 0 in exact arithmetic; rounding may leave -1e-17.
  return std::sqrt(std::max(squared, 0.0));
}

}  // namespace flowlab::ot
