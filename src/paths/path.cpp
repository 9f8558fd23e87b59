#include "flowlab/paths/path.h"

#include <torch/torch.h>

#include <algorithm>

namespace flowlab::paths {

torch::Tensor broadcast_to_sample(const torch::Tensor& coefficient, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = coefficient.size(0);
  return coefficient.to(x.dtype()).reshape(shape);
}

void Path::check_sample_shapes(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t) {
  TORCH_CHECK(x0.sizes() == x1.sizes(), "path sample: x0 ", x0.sizes(), " and x1 ", x1.sizes(), " differ");
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x0.size(0), "path sample: t must be [", x0.size(0), "], got ", t.sizes());
}

PathSample Path::sample(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t,
                        const torch::Tensor& z) const {
  check_sample_shapes(x0, x1, t);
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

void Path::check_target(Prediction kind) const {
  if (kind == Prediction::kDenoiser && deterministic()) {
    throw Error("a denoiser prediction E[z|x_t] is undefined on a path with gamma = 0; predict noise or velocity");
  }
  if (kind == Prediction::kNoise && !gaussian_source()) {
    throw Error("a noise prediction E[x0|x_t] needs a Gaussian source (one-sided path); on two-sided paths "
                "predict velocity, interpolant_velocity, denoiser, data or score");
  }
  if (kind == Prediction::kInterpolantVelocity && mirror()) {
    throw Error("the interpolant velocity is identically 0 on the mirror path; predict velocity, denoiser or score");
  }
  if (kind == Prediction::kScore && !gaussian_source() && deterministic()) {
    throw Error("the score of a two-sided path with gamma = 0 has no regression target; use a gamma > 0");
  }
}

void Path::check_convertible(Prediction kind) const {
  check_target(kind);
  const std::string why = why_no_velocity({kind});
  if (!why.empty()) throw Error("a network predicting '" + to_string(kind) + "': " + why);
}

torch::Tensor Path::target(Prediction kind, const PathSample& s) const {
  check_target(kind);
  switch (kind) {
    case Prediction::kVelocity: return s.dx_t;
    case Prediction::kData: return s.x1;
    case Prediction::kNoise: return s.x0;
    case Prediction::kDenoiser: return s.z;
    case Prediction::kInterpolantVelocity: {
      const Coefficients c = at(s.t);
      return broadcast_to_sample(c.d_alpha, s.x0) * s.x0 + broadcast_to_sample(c.d_beta, s.x0) * s.x1;
    }
    case Prediction::kScore: {
      // Both conditional scores are singular at an endpoint, where alpha or gamma vanishes.
      const double clip = this->clip();
      const Coefficients c = at(s.t.clamp(clip, 1.0 - clip));
      if (gaussian_source()) {
        // x_t | x1 ~ N(beta x1, (alpha^2 + gamma^2) I).
        const auto sigma2 = broadcast_to_sample(c.alpha * c.alpha + c.gamma * c.gamma, s.x0);
        return -(s.x_t - broadcast_to_sample(c.beta, s.x0) * s.x1) / sigma2;
      }
      // x_t | x0, x1 ~ N(alpha x0 + beta x1, gamma^2 I): the conditional score is -z / gamma.
      return -s.z / broadcast_to_sample(c.gamma, s.x0);
    }
  }
  throw Error("unreachable prediction kind");
}

namespace {

bool contains(const std::vector<Prediction>& kinds, Prediction kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

const torch::Tensor* find(const Predictions& outputs, Prediction kind) {
  for (const auto& output : outputs) {
    if (output.first == kind) return &output.second;
  }
  return nullptr;
}

std::vector<Prediction> kinds_of(const Predictions& outputs) {
  std::vector<Prediction> kinds;
  for (const auto& output : outputs) kinds.push_back(output.first);
  return kinds;
}

// For a Gaussian source, x_t | x1 ~ N(beta x1, sigma^2 I) with sigma^2 = alpha^2 + gamma^2.
// Every prediction is an affine function of the data estimate x1_hat; the
// residual r = x - beta x1_hat equals -sigma^2 * score, and E[x0 | x] = alpha r / sigma^2.
struct GaussianTerms {
  torch::Tensor beta, d_beta, sigma2, sigma_d_sigma, alpha, d_alpha, gamma;
};

GaussianTerms gaussian_terms(const Path& path, const torch::Tensor& x, const torch::Tensor& t) {
  const double clip = path.clip();
  const Coefficients c = path.at(t.clamp(clip, 1.0 - clip));
  auto b = [&](const torch::Tensor& v) { return broadcast_to_sample(v, x); };
  return {b(c.beta),  b(c.d_beta),  b(c.alpha * c.alpha + c.gamma * c.gamma), b(c.alpha * c.d_alpha + c.gamma_d_gamma),
          b(c.alpha), b(c.d_alpha), b(c.gamma)};
}

torch::Tensor data_estimate(const GaussianTerms& g, Prediction kind, const torch::Tensor& out,
                            const torch::Tensor& x) {
  switch (kind) {
    case Prediction::kData: return out;
    case Prediction::kScore: return (x + g.sigma2 * out) / g.beta;
    case Prediction::kNoise: return (x - g.sigma2 / g.alpha * out) / g.beta;
    case Prediction::kDenoiser: return (x - g.sigma2 / g.gamma * out) / g.beta;
    case Prediction::kVelocity: {
      const auto rate = g.sigma_d_sigma / g.sigma2;  // b = rate * (x - beta x1) + d_beta x1
      return (out - rate * x) / (g.d_beta - rate * g.beta);
    }
    case Prediction::kInterpolantVelocity: {
      const auto rate = g.alpha * g.d_alpha / g.sigma2;  // v = rate * (x - beta x1) + d_beta x1
      return (out - rate * x) / (g.d_beta - rate * g.beta);
    }
  }
  throw Error("unreachable prediction kind");
}

}  // namespace

std::string Path::why_no_velocity(const std::vector<Prediction>& kinds) const {
  if (kinds.empty()) return "no predicted field";
  if (contains(kinds, Prediction::kVelocity) || gaussian_source()) return "";
  // On the mirror path v = 0, so b = gamma' eta_z = -gamma gamma' s.
  if (mirror() && (contains(kinds, Prediction::kDenoiser) || contains(kinds, Prediction::kScore))) return "";
  if (contains(kinds, Prediction::kInterpolantVelocity) &&
      (deterministic() || contains(kinds, Prediction::kDenoiser) || contains(kinds, Prediction::kScore))) {
    return "";
  }
  return "on a path with a non-Gaussian source the velocity needs a 'velocity' prediction, or "
         "'interpolant_velocity' together with 'denoiser' or 'score' (model.also_predicts)";
}

std::string Path::why_no_score(const std::vector<Prediction>& kinds) const {
  if (kinds.empty()) return "no predicted field";
  if (contains(kinds, Prediction::kScore) || gaussian_source()) return "";
  if (contains(kinds, Prediction::kDenoiser) && !deterministic()) return "";
  return "on a path with a non-Gaussian source the score needs a 'score' or 'denoiser' prediction "
         "(for example model.also_predicts: score)";
}


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

torch::Tensor Path::velocity(const Predictions& outputs, const torch::Tensor& x, const torch::Tensor& t) const {
  const std::string why = why_no_velocity(kinds_of(outputs));
  if (!why.empty()) throw Error(why);
  if (const torch::Tensor* b = find(outputs, Prediction::kVelocity)) return *b;
  if (gaussian_source()) return to_velocity(outputs[0].first, outputs[0].second, x, t);
  const torch::Tensor* v_found = find(outputs, Prediction::kInterpolantVelocity);
  const torch::Tensor v = v_found ? *v_found : torch::zeros_like(x);  // v = 0 on the mirror path
  if (deterministic()) return v;
  // gamma' diverges at the endpoints of the brownian gamma: evaluate inside [clip, 1 - clip].
  const double clip = this->clip();
  const Coefficients c = at(t.clamp(clip, 1.0 - clip));
  if (const torch::Tensor* eta = find(outputs, Prediction::kDenoiser)) {
    return v + broadcast_to_sample(c.d_gamma, x) * *eta;
  }
  return v - broadcast_to_sample(c.gamma_d_gamma, x) * *find(outputs, Prediction::kScore);
}

torch::Tensor Path::score(const Predictions& outputs, const torch::Tensor& x, const torch::Tensor& t) const {
  const std::string why = why_no_score(kinds_of(outputs));
  if (!why.empty()) throw Error(why);
  if (const torch::Tensor* s = find(outputs, Prediction::kScore)) return *s;
  if (gaussian_source()) {
    // Prefer a field trained for the score's scale (denoiser, noise) over one converted from b.
    for (Prediction kind : {Prediction::kDenoiser, Prediction::kNoise}) {
      if (const torch::Tensor* out = find(outputs, kind)) return to_score(kind, *out, x, t);
    }
    return to_score(outputs[0].first, outputs[0].second, x, t);
  }
  const double clip = this->clip();
  const Coefficients c = at(t.clamp(clip, 1.0 - clip));
  return -*find(outputs, Prediction::kDenoiser) / broadcast_to_sample(c.gamma, x);
}

}  // namespace flowlab::paths
