#include "flowlab/paths/path.h"

#include <torch/torch.h>

namespace flowlab::paths {

torch::Tensor broadcast_to_sample(const torch::Tensor& coefficient, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = coefficient.size(0);
  return coefficient.to(x.dtype()).reshape(shape);
}

PathSample Path::sample(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t,
                        const torch::Tensor& z) const {
  TORCH_CHECK(x0.sizes() == x1.sizes(), "path sample: x0 ", x0.sizes(), " and x1 ", x1.sizes(), " differ");
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x0.size(0), "path sample: t must be [", x0.size(0), "], got ", t.sizes());
  const Coefficients c = at(t);
  auto b = [&](const torch::Tensor& v) { return broadcast_to_sample(v, x0); };
  PathSample s{t, x0, x1, z, {}, {}};
  s.x_t = b(c.alpha) * x0 + b(c.beta) * x1;
  s.dx_t = b(c.d_alpha) * x0 + b(c.d_beta) * x1;
  if (!deterministic()) {
    TORCH_CHECK(z.defined() && z.sizes() == x0.sizes(), "path sample: z must match x0 ", x0.sizes());
    s.x_t = s.x_t + b(c.gamma) * z;
    s.dx_t = s.dx_t + b(c.d_gamma) * z;
  }
  return s;
}

void Path::check_convertible(Prediction kind) const {
  if (kind == Prediction::kVelocity) return;
  if (!gaussian_source()) {
    throw Error("a network predicting '" + to_string(kind) +
                "' does not determine the velocity on a path with a non-Gaussian source; predict velocity");
  }
  if (kind == Prediction::kDenoiser && deterministic()) {
    throw Error("a denoiser prediction E[z|x_t] is undefined on a path with gamma = 0; predict noise instead");
  }
}

torch::Tensor Path::target(Prediction kind, const PathSample& s) const {
  check_convertible(kind);
  switch (kind) {
    case Prediction::kVelocity: return s.dx_t;
    case Prediction::kData: return s.x1;
    case Prediction::kNoise: return s.x0;
    case Prediction::kDenoiser: return s.z;
    case Prediction::kScore: {
      // Conditional score of x_t given x1: x_t | x1 ~ N(beta x1, (alpha^2 + gamma^2) I).
      const Coefficients c = at(s.t);
      const auto sigma2 = broadcast_to_sample(c.alpha * c.alpha + c.gamma * c.gamma, s.x0);
      return -(s.x_t - broadcast_to_sample(c.beta, s.x0) * s.x1) / sigma2;
    }
  }
  throw Error("unreachable prediction kind");
}

namespace {

// For a Gaussian source, x_t | x1 ~ N(beta x1, sigma^2 I) with sigma^2 = alpha^2 + gamma^2.
// Every prediction is an affine function of the data estimate x1_hat; the
// residual r = x - beta x1_hat equals -sigma^2 * score.
struct GaussianTerms {
  torch::Tensor beta, d_beta, sigma2, sigma_d_sigma, alpha, gamma;
};

GaussianTerms gaussian_terms(const Path& path, const torch::Tensor& x, const torch::Tensor& t) {
  const double clip = path.clip();
  const Coefficients c = path.at(t.clamp(clip, 1.0 - clip));
  auto b = [&](const torch::Tensor& v) { return broadcast_to_sample(v, x); };
  return {b(c.beta), b(c.d_beta), b(c.alpha * c.alpha + c.gamma * c.gamma),
          b(c.alpha * c.d_alpha + c.gamma_d_gamma), b(c.alpha), b(c.gamma)};
}

torch::Tensor data_estimate(const GaussianTerms& g, Prediction kind, const torch::Tensor& out,
                            const torch::Tensor& x) {
  if (kind == Prediction::kData) return out;
  switch (kind) {
    case Prediction::kScore: return (x + g.sigma2 * out) / g.beta;
    case Prediction::kNoise: return (x - g.sigma2 / g.alpha * out) / g.beta;
    case Prediction::kDenoiser: return (x - g.sigma2 / g.gamma * out) / g.beta;
    case Prediction::kVelocity: {
      const auto rate = g.sigma_d_sigma / g.sigma2;  // b = rate * (x - beta x1) + d_beta x1
      return (out - rate * x) / (g.d_beta - rate * g.beta);
    }
    default: break;
  }
  throw Error("unreachable prediction kind");
}

}  // namespace

torch::Tensor Path::to_velocity(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                                const torch::Tensor& t) const {
  if (kind == Prediction::kVelocity) return out;
  check_convertible(kind);
  const GaussianTerms g = gaussian_terms(*this, x, t);
  const torch::Tensor x1_hat = data_estimate(g, kind, out, x);
  return g.sigma_d_sigma / g.sigma2 * (x - g.beta * x1_hat) + g.d_beta * x1_hat;
}

torch::Tensor Path::to_score(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                             const torch::Tensor& t) const {
  if (kind == Prediction::kScore) return out;
  check_convertible(kind);
  const GaussianTerms g = gaussian_terms(*this, x, t);
  const torch::Tensor x1_hat = data_estimate(g, kind, out, x);
  return -(x - g.beta * x1_hat) / g.sigma2;
}

torch::Tensor Path::to_data(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                            const torch::Tensor& t) const {
  if (kind == Prediction::kData) return out;
  check_convertible(kind);
  return data_estimate(gaussian_terms(*this, x, t), kind, out, x);
}

}  // namespace flowlab::paths
