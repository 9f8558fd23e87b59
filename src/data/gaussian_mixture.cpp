#include "flowlab/data/gaussian_mixture.h"

#include <torch/torch.h>

#include <cmath>
#include <sstream>

namespace flowlab::data {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;
// Weights typed into YAML rarely sum to 1 exactly; anything closer than this is renormalised.
constexpr double kWeightSumTolerance = 1e-6;
// Relative asymmetry tolerated in a covariance before it counts as not symmetric.
constexpr double kSymmetryTolerance = 1e-8;

torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

torch::Tensor to_tensor(const std::vector<double>& values) {
  return torch::tensor(values, f64());
}

// "" when `weights` [K] are valid mixture weights, else what is wrong.
std::string weights_problem(const torch::Tensor& weights) {
  if (!torch::isfinite(weights).all().item<bool>()) return "weights must be finite";
  if ((weights < 0).any().item<bool>()) return "weights must be >= 0";
  const double sum = weights.sum().item<double>();
  if (std::abs(sum - 1.0) > kWeightSumTolerance) {
    std::ostringstream out;
    out << "weights must sum to 1, these sum to " << sum;
    return out.str();
  }
  return "";
}

// "" when every covariance [K, d, d] is symmetric positive definite, else what is wrong.
std::string covariances_problem(const torch::Tensor& covariances) {
  for (int64_t k = 0; k < covariances.size(0); ++k) {
    const torch::Tensor c = covariances[k];
    const std::string which = "covariance " + std::to_string(k) + " (counting from 0)";
    if (!torch::isfinite(c).all().item<bool>()) return which + " has non-finite entries";
    const double magnitude = std::max(1.0, c.abs().max().item<double>());
    if ((c - c.t()).abs().max().item<double>() > kSymmetryTolerance * magnitude) return which + " is not symmetric";
    const auto info = std::get<1>(torch::linalg_cholesky_ex(c));
    if (info.item<int64_t>() != 0) return which + " is not positive definite";
  }
  return "";
}

}  // namespace

GaussianMixtureOptions GaussianMixtureOptions::read(config::Node& node) {
  GaussianMixtureOptions o;
  o.dim = node.require<int64_t>("dim", "dimension d of a sample");
  node.expect(o.dim > 0, "dim", "an integer > 0");
  o.means = node.require<std::vector<double>>("means", "K*d numbers: the K component means, one after another");
  o.weights = node.get<std::vector<double>>("weights", {}, "K weights >= 0 summing to 1; [] for uniform");
  o.stds = node.get<std::vector<double>>(
      "stds", {}, "isotropic std of each component: K numbers, or one for all (instead of covariances)");
  o.covariances = node.get<std::vector<double>>(
      "covariances", {},
      "K*d*d numbers: each component's d x d covariance, row-major, symmetric positive definite; "
      "with neither stds nor covariances every covariance is the identity");
  if (node.describing()) return o;

  const auto d = static_cast<std::size_t>(o.dim);
  const std::string dim_text = std::to_string(o.dim);
  node.expect(!o.means.empty() && o.means.size() % d == 0, "means",
              "a list of K*dim numbers (dim = " + dim_text + ")");
  for (double m : o.means) node.expect(std::isfinite(m), "means", "finite numbers");
  const std::size_t k = o.means.size() / d;
  const std::string k_text = std::to_string(k);

  if (!o.weights.empty()) {
    node.expect(o.weights.size() == k, "weights", "one weight per component (K = " + k_text + ", from means and dim)");
    const std::string problem = weights_problem(to_tensor(o.weights));
    if (!problem.empty()) node.fail("weights", problem);
  }
  if (!o.stds.empty() && !o.covariances.empty()) {
    node.fail("stds", "give either stds or covariances, not both");
  }
  if (!o.stds.empty()) {
    node.expect(o.stds.size() == 1 || o.stds.size() == k, "stds", "one std, or one per component (K = " + k_text + ")");
    for (double s : o.stds) node.expect(std::isfinite(s) && s > 0, "stds", "numbers > 0");
  }
  if (!o.covariances.empty()) {
    node.expect(o.covariances.size() == k * d * d, "covariances",
                "K*dim*dim = " + std::to_string(k * d * d) + " numbers (K = " + k_text + ", dim = " + dim_text + ")");
    const std::string problem = covariances_problem(
        to_tensor(o.covariances).reshape({static_cast<int64_t>(k), o.dim, o.dim}));
    if (!problem.empty()) node.fail("covariances", problem);
  }
  return o;
}

namespace {

int64_t num_components(const GaussianMixtureOptions& o) {
  return static_cast<int64_t>(o.means.size()) / std::max<int64_t>(o.dim, 1);
}

torch::Tensor means_from(const GaussianMixtureOptions& o) {
  return to_tensor(o.means).reshape({num_components(o), std::max<int64_t>(o.dim, 1)});
}

torch::Tensor covariances_from(const GaussianMixtureOptions& o) {
  const int64_t k = num_components(o), d = o.dim;
  if (!o.covariances.empty()) return to_tensor(o.covariances).reshape({k, d, d});
  torch::Tensor variances = o.stds.empty() ? torch::ones({k}, f64()) : to_tensor(o.stds).square().expand({k});
  return variances.reshape({k, 1, 1}) * torch::eye(d, f64()).expand({k, d, d});
}

torch::Tensor weights_from(const GaussianMixtureOptions& o) {
  const int64_t k = num_components(o);
  return o.weights.empty() ? torch::full({k}, 1.0 / static_cast<double>(k), f64()) : to_tensor(o.weights);
}

}  // namespace

GaussianMixture::GaussianMixture(const GaussianMixtureOptions& o)
    : GaussianMixture(weights_from(o), means_from(o), covariances_from(o)) {}

GaussianMixture::GaussianMixture(const torch::Tensor& weights, const torch::Tensor& means,
                                 const torch::Tensor& covariances) {
  TORCH_CHECK(means.dim() == 2 && means.size(0) > 0 && means.size(1) > 0,
              "gaussian_mixture: means must be [K, d] with K, d > 0, got ", means.sizes());
  const int64_t k = means.size(0), d = means.size(1);
  TORCH_CHECK(weights.dim() == 1 && weights.size(0) == k, "gaussian_mixture: weights must be [K] = [", k, "], got ",
              weights.sizes());
  TORCH_CHECK(covariances.dim() == 3 && covariances.size(0) == k && covariances.size(1) == d &&
                  covariances.size(2) == d,
              "gaussian_mixture: covariances must be [K, d, d] = [", k, ", ", d, ", ", d, "], got ",
              covariances.sizes());
  weights_ = weights.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  means_ = means.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  covariances_ = covariances.detach().to(torch::kCPU, torch::kFloat64);
  TORCH_CHECK(torch::isfinite(means_).all().item<bool>(), "gaussian_mixture: means must be finite");
  const std::string weight_problem = weights_problem(weights_);
  TORCH_CHECK(weight_problem.empty(), "gaussian_mixture: ", weight_problem);
  const std::string covariance_problem = covariances_problem(covariances_);
  TORCH_CHECK(covariance_problem.empty(), "gaussian_mixture: ", covariance_problem);

  weights_ = weights_ / weights_.sum();
  // Symmetrise exactly so precisions and moments are symmetric to the last bit.
  covariances_ = (0.5 * (covariances_ + covariances_.transpose(1, 2))).contiguous();
  cholesky_ = torch::linalg_cholesky(covariances_);
  inv_cholesky_ = torch::linalg_solve_triangular(cholesky_, torch::eye(d, f64()).expand({k, d, d}), /*upper=*/false);
  precisions_ = torch::matmul(inv_cholesky_.transpose(1, 2), inv_cholesky_);
  const torch::Tensor log_det = 2.0 * torch::log(torch::diagonal(cholesky_, 0, 1, 2)).sum(1);
  log_normalizer_ = torch::log(weights_) - 0.5 * (static_cast<double>(d) * kLog2Pi + log_det);
}

torch::Tensor GaussianMixture::joint_log_probs(const torch::Tensor& x64, torch::Tensor* centred) const {
  TORCH_CHECK(x64.dim() == 2 && x64.size(1) == dim(), "gaussian_mixture: expected x of shape [B, ", dim(), "], got ",
              x64.sizes());
  const torch::Tensor diff = x64.unsqueeze(1) - means_.unsqueeze(0);           // [B, K, d]
  const torch::Tensor whitened = torch::einsum("kij,bkj->bki", {inv_cholesky_, diff});  // L_k^{-1} (x - mu_k)
  if (centred) *centred = diff;
  return log_normalizer_.unsqueeze(0) - 0.5 * whitened.square().sum(2);
}

torch::Tensor GaussianMixture::log_prob(const torch::Tensor& x) const {
  // Not detached: autograd through log_prob is how tests and users check score().
  const torch::Tensor x64 = x.to(torch::kCPU, torch::kFloat64);
  const torch::Tensor out = torch::logsumexp(joint_log_probs(x64, nullptr), {1});
  return out.to(x.device(), x.is_floating_point() ? x.scalar_type() : torch::kFloat32);
}

torch::Tensor GaussianMixture::score(const torch::Tensor& x) const {
  const torch::Tensor x64 = x.detach().to(torch::kCPU, torch::kFloat64);
  torch::Tensor diff;
  const torch::Tensor responsibilities = torch::softmax(joint_log_probs(x64, &diff), 1);  // [B, K]
  const torch::Tensor out = -torch::einsum("bk,kij,bkj->bi", {responsibilities, precisions_, diff});
  return out.to(x.device(), x.is_floating_point() ? x.scalar_type() : torch::kFloat32);
}

Batch GaussianMixture::sample(int64_t n, at::Generator& gen) const {
  TORCH_CHECK(n >= 0, "gaussian_mixture: cannot draw ", n, " samples");
  if (n == 0) return Batch{torch::empty({0, dim()}, torch::kFloat32), torch::empty({0}, torch::kLong)};
  const torch::Tensor component = torch::multinomial(weights_, n, /*replacement=*/true, gen);
  const torch::Tensor eps = torch::randn({n, dim()}, gen, f64());
  const torch::Tensor x = means_.index_select(0, component) +
                          torch::matmul(cholesky_.index_select(0, component), eps.unsqueeze(2)).squeeze(2);
  return Batch{x.to(torch::kFloat32).contiguous(), component};  // labelled by component
}

torch::Tensor GaussianMixture::mean() const { return torch::matmul(weights_, means_); }

torch::Tensor GaussianMixture::covariance() const {
  // Law of total covariance: E[Sigma_k] + Cov[mu_k].
  const torch::Tensor m = mean();
  const torch::Tensor second_moment =
      torch::einsum("k,kij->ij", {weights_, covariances_ + means_.unsqueeze(2) * means_.unsqueeze(1)});
  return second_moment - torch::outer(m, m);
}

}  // namespace flowlab::data
