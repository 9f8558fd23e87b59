#pragma once
// The data separation function of Shaul, Chen, Nickel, Le & Lipman (ICML 2023):
//   lambda(s) = (1/d) E |E[x1 | x1 + z/s]|^2,   z ~ N(0, I),
// through which alone the kinetic energy of a Gaussian path N(a_t x1, m_t^2 I) depends on
// the data (s = a/m is sqrt(SNR)). Everything here is normalised by the data's second moment
// mu2 = (1/d) E|x1|^2, as if the data were scaled to mu2 = 1: s' = sqrt(mu2) s and
// lambda'(s') = lambda(s)/mu2, so N(0, mu2 I) has lambda'(s') = s'^2/(1 + s'^2) for any mu2.
//
// The energy needs the posterior error relative to a Gaussian's,
//   h(theta) = (1 - lambda'(tan theta)) / cos^2 theta = 1 - gamma(theta)   (theta in [0, pi/2]),
// which is 1 for Gaussian data and 0 for well-separated data.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <functional>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/paths/monotone_cubic.h"

namespace flowlab::paths {

/// How lambda is estimated: on `knots` values of s' log-uniform in [s_min, s_max], from the
/// empirical distribution of `data_points` data points, with `noise_samples` noisy points each.
struct SeparationOptions {
  int64_t data_points = 20000;
  int64_t noise_samples = 4096;
  int64_t knots = 48;
  double s_min = 1e-2;
  double s_max = 1e4;
  /// Reads and checks the options; a value out of range is a ConfigError naming its key.
  static SeparationOptions read(config::Node& node);
};

class DataSeparation {
 public:
  /// One knot of the estimate: lambda'(s') by Monte Carlo, its standard error, and the value
  /// after isotonic (monotone) regression, which is what the interpolant passes through.
  struct Knot {
    double s = 0.0;  ///< s' = sqrt(mu2) a/m
    double lambda = 0.0, lambda_se = 0.0, smoothed = 0.0;
  };

  /// From knots (s' strictly increasing, > 0; `smoothed` nondecreasing in [0, 1]), the exact
  /// endpoint values lambda'(0) = |E x1|^2 / (d mu2) and h(pi/2) = lim (1 + s'^2)(1 - lambda'(s')),
  /// and the data's mu2. Throws Error when they are inconsistent.
  DataSeparation(std::vector<Knot> knots, double lambda_at_zero, double ratio_at_infinity, double second_moment);

  /// Monte-Carlo estimate from data [n, ...] (the first options.data_points rows are used, all of
  /// them when there are fewer). Per knot, k noisy points y_j = x_{i_j} + z_j/s' (i_j running
  /// through a random permutation, the same z_j at every knot) give the posterior means
  /// pm_j; lambda' = E|pm|^2/d is estimated with two control variates of known mean,
  /// (|pm|^2 + |x - pm|^2 - |x|^2)/d (mean 0) and |x|^2/d - 1 (mean 0), whose optimal weights
  /// make the error vanish both as s' -> 0 and as s' -> infinity. lambda'(0) and h(pi/2) = 0
  /// are exact for an empirical distribution.
  static DataSeparation estimate(const torch::Tensor& data, const SeparationOptions& options, at::Generator& gen);

  /// From a closed form: `posterior_error`(s') = 1 - lambda'(s') (given directly because
  /// 1 - lambda' loses every digit at large s'), on the knots of `grid`.
  static DataSeparation from_posterior_error(const std::function<double(double)>& posterior_error,
                                             double lambda_at_zero, double ratio_at_infinity,
                                             const SeparationOptions& grid);

  double second_moment() const { return second_moment_; }
  const std::vector<Knot>& knots() const { return knots_; }
  double lambda_at_zero() const { return lambda_at_zero_; }
  double ratio_at_infinity() const { return ratio_at_infinity_; }

  /// lambda'(s') for s' >= 0 (any shape; float64): the monotone cubic through the smoothed knots
  /// and both endpoints, in the angle theta = atan(s').
  torch::Tensor lambda(const torch::Tensor& s) const;
  /// h(theta) on [0, pi/2] (any shape; float64, differentiable in theta), clamped to [0, 1]:
  /// (1 - lambda') / cos^2 theta up to the last knot, then linear to h(pi/2).
  torch::Tensor error_ratio(const torch::Tensor& theta) const;

 private:
  std::vector<Knot> knots_;
  double lambda_at_zero_, ratio_at_infinity_, second_moment_;
  double last_theta_ = 0.0, last_ratio_ = 0.0;
  MonotoneCubic lambda_of_theta_;
};

/// Pool-adjacent-violators: the nondecreasing sequence closest to `values` in the weighted
/// least-squares sense (weights > 0).
std::vector<double> isotonic_regression(const std::vector<double>& values, const std::vector<double>& weights);

}  // namespace flowlab::paths
