#include "flowlab/ot/frechet_distance.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <string>

#include "flowlab/core/error.h"
#include "samples.h"

namespace flowlab::ot {
namespace {

torch::Tensor symmetric_part(const torch::Tensor& m) { return 0.5 * (m + m.transpose(0, 1)); }

// tr (S_a S_b)^{1/2} through eigh only: the eigenvalues of S_a^{1/2} S_b S_a^{1/2} are those of S_a S_b.
double trace_sqrt_product(const torch::Tensor& s_a, const torch::Tensor& s_b) {
  const auto [values, vectors] = at::linalg_eigh(s_a, "L");
  const torch::Tensor root_a = torch::matmul(vectors * values.clamp_min(0.0).sqrt(), vectors.transpose(0, 1));
  const torch::Tensor inner = symmetric_part(torch::matmul(torch::matmul(root_a, s_b), root_a));
  return at::linalg_eigvalsh(inner, "L").clamp_min(0.0).sqrt().sum().item<double>();
}

void check_statistics(const FrechetStatistics& s, const char* which) {
  TORCH_CHECK(s.mean.defined() && s.covariance.defined() && s.mean.dim() == 1 && s.covariance.dim() == 2 &&
                  s.covariance.size(0) == s.mean.size(0) && s.covariance.size(1) == s.mean.size(0),
              "frechet_distance: statistics ", which, " need a mean [d] and a covariance [d, d], got ",
              s.mean.defined() ? s.mean.sizes() : torch::IntArrayRef{}, " and ",
              s.covariance.defined() ? s.covariance.sizes() : torch::IntArrayRef{});
}

}  // namespace

FrechetStatistics frechet_statistics(const torch::Tensor& features) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = detail::as_sample_matrix(features, features.device(), "frechet_statistics");
  const int64_t n = x.size(0);
  if (n < 2) {
    throw Error("Fréchet distance: a covariance needs at least 2 samples, got " + std::to_string(n) +
                " (raise the number of evaluation samples)");
  }
  FrechetStatistics s;
  s.count = n;
  s.mean = x.mean(0);
  const torch::Tensor centred = x - s.mean;
  s.covariance = symmetric_part(torch::matmul(centred.transpose(0, 1), centred) / static_cast<double>(n - 1));
  return s;
}

double frechet_distance(const FrechetStatistics& a, const FrechetStatistics& b) {
  torch::NoGradGuard no_grad;
  check_statistics(a, "a");
  check_statistics(b, "b");
  TORCH_CHECK(a.mean.size(0) == b.mean.size(0), "frechet_distance: statistics of different dimension, ",
              a.mean.size(0), " vs ", b.mean.size(0));
  const auto device = a.mean.device();
  const torch::Tensor mean_a = a.mean.to(device, torch::kFloat64), mean_b = b.mean.to(device, torch::kFloat64);
  const torch::Tensor cov_a = a.covariance.to(device, torch::kFloat64);
  const torch::Tensor cov_b = b.covariance.to(device, torch::kFloat64);
  // LAPACK fails to converge on NaN; a diverged model's features report NaN instead.
  const bool finite = torch::cat({mean_a, mean_b, cov_a.flatten(), cov_b.flatten()}).isfinite().all().item<bool>();
  if (!finite) return std::numeric_limits<double>::quiet_NaN();
  const double mean_term = (mean_a - mean_b).square().sum().item<double>();
  const double trace_term = (cov_a.trace() + cov_b.trace()).item<double>() - 2.0 * trace_sqrt_product(cov_a, cov_b);
  // The exact value is a squared W2 distance, >= 0; rounding may leave -1e-15 x tr.
  return std::max(mean_term + trace_term, 0.0);
}

double frechet_distance(const torch::Tensor& x, const torch::Tensor& y) {
  const FrechetStatistics a = frechet_statistics(x);
  const FrechetStatistics b = frechet_statistics(y);
  return frechet_distance(a, b);
}

}  // namespace flowlab::ot
