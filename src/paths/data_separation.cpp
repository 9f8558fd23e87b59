#include "flowlab/paths/data_separation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "flowlab/core/error.h"
#include "flowlab/paths/empirical_posterior.h"
#include "numeric.h"

namespace flowlab::paths {
namespace {

using detail::kHalfPi;

std::vector<double> log_uniform(double lo, double hi, int64_t count) {
  std::vector<double> s(static_cast<std::size_t>(count));
  for (int64_t k = 0; k < count; ++k) {
    const double u = count == 1 ? 0.0 : static_cast<double>(k) / static_cast<double>(count - 1);
    s[static_cast<std::size_t>(k)] = std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
  }
  return s;
}

// lambda' on theta knots: 0, atan(s'_k), pi/2.
MonotoneCubic lambda_interpolant(const std::vector<DataSeparation::Knot>& knots, double lambda_at_zero) {
  std::vector<double> theta{0.0}, lambda{lambda_at_zero};
  for (const auto& k : knots) {
    theta.push_back(std::atan(k.s));
    lambda.push_back(k.smoothed);
  }
  theta.push_back(kHalfPi);
  lambda.push_back(1.0);
  return MonotoneCubic(torch::tensor(theta, torch::kFloat64), torch::tensor(lambda, torch::kFloat64));
}

// Mean of `target` [k] with control variates `controls` [k, c] of known mean 0, at the
// variance-minimising weights (least squares on the centred samples); and its standard error.
std::pair<double, double> controlled_mean(const torch::Tensor& target, const torch::Tensor& controls) {
  const int64_t k = target.size(0);
  // Controls that are constant here (|x|^2 for data on a sphere, everything once the posterior is
  // certain) carry no information and would make the normal equations singular: drop them.
  const auto scale = (controls - controls.mean(0)).pow(2).mean(0).sqrt();
  const double reference = std::max(target.abs().max().item<double>(), 1.0);
  std::vector<int64_t> keep;
  for (int64_t c = 0; c < controls.size(1); ++c) {
    if (scale[c].item<double>() > 1e-12 * reference) keep.push_back(c);
  }
  torch::Tensor residual = target;
  if (!keep.empty()) {
    const auto index = torch::tensor(keep, torch::kLong);
    const auto normalised = controls.index_select(1, index) / scale.index_select(0, index);
    const auto centred = normalised - normalised.mean(0);
    const auto gram = torch::matmul(centred.t(), centred) / static_cast<double>(k) +
                      1e-12 * torch::eye(static_cast<int64_t>(keep.size()), centred.options());
    const auto covariance = torch::matmul(centred.t(), (target - target.mean()).unsqueeze(1)) / static_cast<double>(k);
    residual = target - torch::matmul(normalised, torch::linalg_solve(gram, covariance)).squeeze(1);
  }
  const double mean = residual.mean().item<double>();
  const double se = k > 1 ? residual.std().item<double>() / std::sqrt(static_cast<double>(k)) : 0.0;
  return {mean, se};
}

}  // namespace

SeparationOptions SeparationOptions::read(config::Node& node) {
  SeparationOptions o;
  o.data_points = node.get<int64_t>("data_points", o.data_points,
                                    "data points whose empirical distribution lambda is estimated for (cost O(n k))");
  o.noise_samples = node.get<int64_t>("noise_samples", o.noise_samples, "noisy points x + z/s per knot");
  o.knots = node.get<int64_t>("knots", o.knots, "knots of lambda, log-uniform in s' = sqrt(mu2) a/m");
  o.s_min = node.get<double>("s_min", o.s_min, "smallest knot s' (lambda'(0) is exact)");
  o.s_max = node.get<double>("s_max", o.s_max, "largest knot s' (h(pi/2) = 0 is exact for finite data)");
  if (node.describing()) return o;
  node.expect(o.data_points >= 2, "data_points", "at least 2 data points");
  node.expect(o.noise_samples >= 2, "noise_samples", "at least 2 noisy points per knot");
  node.expect(o.knots >= 2, "knots", "at least 2 knots");
  node.expect(o.s_min > 0 && std::isfinite(o.s_min), "s_min", "a positive s_min");
  node.expect(o.s_max > o.s_min && std::isfinite(o.s_max), "s_max", "s_max > s_min, finite");
  return o;
}

std::vector<double> isotonic_regression(const std::vector<double>& values, const std::vector<double>& weights) {
  TORCH_CHECK(values.size() == weights.size(), "isotonic regression: one weight per value");
  // Blocks of pooled values: (mean, weight, count).
  std::vector<double> mean, weight;
  std::vector<std::size_t> count;
  for (std::size_t i = 0; i < values.size(); ++i) {
    mean.push_back(values[i]);
    weight.push_back(weights[i]);
    count.push_back(1);
    while (mean.size() > 1 && mean[mean.size() - 2] > mean.back()) {
      const std::size_t b = mean.size() - 1;
      const double w = weight[b - 1] + weight[b];
      mean[b - 1] = (weight[b - 1] * mean[b - 1] + weight[b] * mean[b]) / w;
      weight[b - 1] = w;
      count[b - 1] += count[b];
      mean.pop_back(), weight.pop_back(), count.pop_back();
    }
  }
  std::vector<double> out;
  for (std::size_t b = 0; b < mean.size(); ++b) out.insert(out.end(), count[b], mean[b]);
  return out;
}

DataSeparation::DataSeparation(std::vector<Knot> knots, double lambda_at_zero, double ratio_at_infinity,
                               double second_moment)
    : knots_(std::move(knots)),
      lambda_at_zero_(lambda_at_zero),
      ratio_at_infinity_(ratio_at_infinity),
      second_moment_(second_moment),
      lambda_of_theta_(lambda_interpolant(knots_, lambda_at_zero)) {
  if (knots_.empty()) throw Error("data separation: no knots");
  if (!(second_moment > 0) || !std::isfinite(second_moment)) {
    throw Error("data separation: the data's second moment must be positive and finite, got " +
                std::to_string(second_moment));
  }
  if (!(lambda_at_zero >= 0 && lambda_at_zero <= 1) || !(ratio_at_infinity >= 0 && ratio_at_infinity <= 1)) {
    throw Error("data separation: lambda'(0) and h(pi/2) must lie in [0, 1]");
  }
  double previous = lambda_at_zero, previous_s = 0.0;
  for (const auto& k : knots_) {
    if (!(k.s > previous_s) || !(k.smoothed >= previous) || !(k.smoothed <= 1.0)) {
      throw Error("data separation: knots must have increasing s' > 0 and nondecreasing smoothed lambda' in "
                  "[lambda'(0), 1]");
    }
    previous = k.smoothed, previous_s = k.s;
  }
  last_theta_ = std::atan(knots_.back().s);
  last_ratio_ = std::clamp((1.0 - knots_.back().smoothed) * (1.0 + knots_.back().s * knots_.back().s), 0.0, 1.0);
}

DataSeparation DataSeparation::estimate(const torch::Tensor& data, const SeparationOptions& options,
                                        at::Generator& gen) {
  TORCH_CHECK(data.dim() >= 2 && data.size(0) >= 2, "data separation: data [n >= 2, ...] expected, got ",
              data.sizes());
  const int64_t n = std::min(options.data_points, data.size(0));
  auto x = data.slice(0, 0, n).reshape({n, -1}).to(torch::kFloat64);
  const int64_t d = x.size(1);
  const double mu2 = x.pow(2).sum(1).mean().item<double>() / static_cast<double>(d);
  if (!(mu2 > 0) || !std::isfinite(mu2)) {
    throw Error("data separation: the data's second moment (1/d) E|x|^2 is " + std::to_string(mu2) +
                "; lambda needs finite, non-constant-zero data");
  }
  x = x / std::sqrt(mu2);
  const double lambda_at_zero = std::min(1.0, x.mean(0).pow(2).sum().item<double>() / static_cast<double>(d));

  const int64_t k = options.noise_samples;
  std::vector<torch::Tensor> permutations;
  for (int64_t drawn = 0; drawn < k; drawn += n) permutations.push_back(torch::randperm(n, gen, torch::kLong));
  const auto index = torch::cat(permutations).slice(0, 0, k).to(x.device());
  const auto clean = x.index_select(0, index);
  const auto noise = torch::randn({k, d}, gen, torch::kFloat64).to(x.device());
  const auto clean_sq = clean.pow(2).sum(1) / static_cast<double>(d);

  std::vector<Knot> knots;
  std::vector<double> values, weights;
  for (double s : log_uniform(options.s_min, options.s_max, options.knots)) {
    const auto posterior = empirical_posterior_mean(x, clean + noise / s, torch::tensor(s, torch::kFloat64));
    const auto explained = posterior.pow(2).sum(1) / static_cast<double>(d);
    const auto error = (clean - posterior).pow(2).sum(1) / static_cast<double>(d);
    const auto controls = torch::stack({explained + error - clean_sq, clean_sq - 1.0}, 1);
    const auto [mean, se] = controlled_mean(explained, controls);
    knots.push_back({s, mean, se, 0.0});
    values.push_back(mean);
    weights.push_back(1.0 / std::max(se * se, 1e-30));
  }
  const std::vector<double> smoothed = isotonic_regression(values, weights);
  for (std::size_t i = 0; i < knots.size(); ++i) knots[i].smoothed = std::clamp(smoothed[i], lambda_at_zero, 1.0);
  // An empirical distribution is separated at large enough s': h -> 0.
  return DataSeparation(std::move(knots), lambda_at_zero, 0.0, mu2);
}

DataSeparation DataSeparation::from_posterior_error(const std::function<double(double)>& posterior_error,
                                                    double lambda_at_zero, double ratio_at_infinity,
                                                    const SeparationOptions& grid) {
  std::vector<Knot> knots;
  for (double s : log_uniform(grid.s_min, grid.s_max, grid.knots)) {
    const double lambda = 1.0 - posterior_error(s);
    knots.push_back({s, lambda, 0.0, lambda});
  }
  return DataSeparation(std::move(knots), lambda_at_zero, ratio_at_infinity, 1.0);
}

torch::Tensor DataSeparation::lambda(const torch::Tensor& s) const {
  return lambda_of_theta_.evaluate(torch::atan(s.to(torch::kFloat64))).value.clamp(0.0, 1.0);
}

torch::Tensor DataSeparation::error_ratio(const torch::Tensor& theta) const {
  const auto th = theta.to(torch::kFloat64);
  // Both branches are evaluated; the inner one at a clamped angle so that neither its value nor
  // its gradient is 0/0 beyond the last knot.
  const auto inner_theta = th.clamp_max(last_theta_);
  const auto cos_inner = torch::cos(inner_theta);
  const auto inner = (1.0 - lambda_of_theta_.evaluate(inner_theta).value) / (cos_inner * cos_inner);
  const auto outer =
      last_ratio_ + (ratio_at_infinity_ - last_ratio_) * (th - last_theta_) / (kHalfPi - last_theta_);
  return torch::where(th <= last_theta_, inner, outer).clamp(0.0, 1.0);
}

}  // namespace flowlab::paths
