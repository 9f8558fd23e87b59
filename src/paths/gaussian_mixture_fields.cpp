#include "flowlab/paths/gaussian_mixture_fields.h"

#include <torch/torch.h>

#include "flowlab/core/error.h"

namespace flowlab::paths {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;

data::GaussianMixture standard_normal(int64_t dim) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  return data::GaussianMixture(torch::ones({1}, f64), torch::zeros({1, dim}, f64),
                               torch::eye(dim, f64).unsqueeze(0));
}

// [B] -> [B, 1, 1] (against [B, M, d]) or [B, 1, 1, 1] (against [B, M, d, d]).
torch::Tensor per_sample(const torch::Tensor& v, int64_t trailing) {
  std::vector<int64_t> shape(static_cast<std::size_t>(1 + trailing), 1);
  shape[0] = v.size(0);
  return v.reshape(shape);
}

}  // namespace

struct GaussianMixtureFields::Evaluation {
  torch::Tensor log_joint;  // log p0_i p1_j N(x; m_ij, C_ij) [B, M]
  torch::Tensor solved;     // C_ij^{-1} (x - m_ij) [B, M, d]
  torch::Tensor drift;      // dm_ij + dC_ij C_ij^{-1} (x - m_ij) / 2 [B, M, d], when asked for
};

GaussianMixtureFields::GaussianMixtureFields(const Path& path, const data::GaussianMixture& source,
                                             const data::GaussianMixture& target)
    : path_(&path) {
  if (path.mirror()) {
    throw Error("Gaussian-mixture fields: a mirror path maps the data to itself (x0 = x1); give only the target");
  }
  TORCH_CHECK(source.dim() == target.dim(), "Gaussian-mixture fields: source dimension ", source.dim(),
              " differs from target dimension ", target.dim());
  const int64_t I = source.num_components(), J = target.num_components();
  // Pair m = i J + j.
  const auto i = torch::arange(I).repeat_interleave(J), j = torch::arange(J).repeat(I);
  log_weights_ = torch::log(source.weights().index({i})) + torch::log(target.weights().index({j}));
  source_means_ = source.means().index({i});
  target_means_ = target.means().index({j});
  source_covariances_ = source.covariances().index({i});
  target_covariances_ = target.covariances().index({j});
}

GaussianMixtureFields::GaussianMixtureFields(const Path& path, const data::GaussianMixture& target)
    : path_(&path) {
  if (!path.mirror()) {
    *this = GaussianMixtureFields(path, standard_normal(target.dim()), target);
    return;
  }
  // x0 = x1: x_t = (alpha + beta) x1 + gamma z, the source terms carry no weight (see evaluate).
  log_weights_ = torch::log(target.weights());
  target_means_ = target.means();
  target_covariances_ = target.covariances();
  source_means_ = torch::zeros_like(target_means_);
  source_covariances_ = torch::zeros_like(target_covariances_);
}

GaussianMixtureFields::Evaluation GaussianMixtureFields::evaluate(const torch::Tensor& x, const torch::Tensor& t,
                                                                  bool with_velocity) const {
  const int64_t d = target_means_.size(1);
  TORCH_CHECK(x.dim() == 2 && x.size(1) == d, "Gaussian-mixture fields: x must be [B, ", d, "], got ", x.sizes());
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x.size(0), "Gaussian-mixture fields: t must be [", x.size(0), "], got ",
              t.sizes());
  const auto x64 = x.to(torch::kFloat64);
  const auto device = x64.device();
  const Coefficients c = path_->at(t.to(device, torch::kFloat64));
  torch::Tensor alpha = c.alpha, beta = c.beta, d_alpha = c.d_alpha, d_beta = c.d_beta;
  if (path_->mirror()) {
    beta = alpha + beta, d_beta = d_alpha + d_beta;
    alpha = torch::zeros_like(alpha), d_alpha = torch::zeros_like(d_alpha);
  }
  const auto mu0 = source_means_.to(device).unsqueeze(0), mu1 = target_means_.to(device).unsqueeze(0);
  const auto c0 = source_covariances_.to(device).unsqueeze(0), c1 = target_covariances_.to(device).unsqueeze(0);
  const auto eye = torch::eye(d, x64.options());
  auto vec = [](const torch::Tensor& v) { return per_sample(v, 2); };
  auto mat = [](const torch::Tensor& v) { return per_sample(v, 3); };

  const auto mean = vec(alpha) * mu0 + vec(beta) * mu1;  // [B, M, d]
  const auto covariance = mat(alpha * alpha) * c0 + mat(beta * beta) * c1 + mat(c.gamma * c.gamma) * eye;
  const auto [cholesky, info] = torch::linalg_cholesky_ex(covariance);
  if ((info != 0).any().item<bool>()) {
    const auto bad = (info != 0).any(1).nonzero().flatten();
    throw Error("Gaussian-mixture fields: the covariance of x_t is singular at t = " +
                std::to_string(t.index({bad[0]}).item<double>()) + " (alpha, beta and gamma all vanish)");
  }
  const auto centred = x64.unsqueeze(1) - mean;
  Evaluation e;
  e.solved = torch::cholesky_solve(centred.unsqueeze(-1), cholesky).squeeze(-1);
  const auto log_det = 2.0 * torch::log(torch::diagonal(cholesky, 0, -2, -1)).sum(-1);
  e.log_joint = log_weights_.to(device).unsqueeze(0) -
                0.5 * ((centred * e.solved).sum(-1) + log_det + static_cast<double>(d) * kLog2Pi);
  if (with_velocity) {
    // dC / 2 = alpha alpha' C0 + beta beta' C1 + gamma gamma' I.
    const auto half_d_covariance = mat(alpha * d_alpha) * c0 + mat(beta * d_beta) * c1;
    e.drift = vec(d_alpha) * mu0 + vec(d_beta) * mu1 +
              torch::matmul(half_d_covariance, e.solved.unsqueeze(-1)).squeeze(-1) + vec(c.gamma_d_gamma) * e.solved;
  }
  return e;
}

torch::Tensor GaussianMixtureFields::velocity(const torch::Tensor& x, const torch::Tensor& t) const {
  const Evaluation e = evaluate(x, t, true);
  const auto weights = torch::softmax(e.log_joint, 1).unsqueeze(-1);
  return (weights * e.drift).sum(1).to(x.scalar_type());
}

torch::Tensor GaussianMixtureFields::score(const torch::Tensor& x, const torch::Tensor& t) const {
  const Evaluation e = evaluate(x, t, false);
  const auto weights = torch::softmax(e.log_joint, 1).unsqueeze(-1);
  return (-(weights * e.solved).sum(1)).to(x.scalar_type());
}

torch::Tensor GaussianMixtureFields::log_prob(const torch::Tensor& x, const torch::Tensor& t) const {
  return torch::logsumexp(evaluate(x, t, false).log_joint, 1).to(x.scalar_type());
}

solvers::Field GaussianMixtureFields::velocity_field() const {
  return [fields = *this](const torch::Tensor& x, const torch::Tensor& t) { return fields.velocity(x, t); };
}

solvers::Field GaussianMixtureFields::score_field() const {
  return [fields = *this](const torch::Tensor& x, const torch::Tensor& t) { return fields.score(x, t); };
}

}  // namespace flowlab::paths
