#pragma once
// Flows whose data density is known in closed form: the oracles of the
// likelihood tests. Each field treats rows independently (adaptive solvers call
// it on subsets of rows) and works in x's dtype with t [n] in x's dtype.
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "flowlab/solvers/likelihood.h"

namespace flowlab::solvers::closed_form {

// A fixed non-symmetric 3x3 generator: rotation, shear and unequal scaling.
inline torch::Tensor generator_3d() {
  return torch::tensor({{0.3, -0.8, 0.2}, {0.5, -0.4, 0.1}, {-0.3, 0.6, 0.2}}, torch::kDouble);
}

constexpr double kLogTwoPi = 1.8378770664093453;

/// t [n] shaped to broadcast against x [n, ...].
inline torch::Tensor per_row(const torch::Tensor& t, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = t.size(0);
  return t.reshape(shape);
}

/// Batched isotropic Gaussian log-density log N(x; mean, variance I) for x [n, d].
inline torch::Tensor isotropic_normal_log_prob(const torch::Tensor& x, const torch::Tensor& mean, double variance) {
  const torch::Tensor x64 = x.to(torch::kDouble);
  const double d = static_cast<double>(x.size(1));
  return -0.5 * (x64 - mean.to(torch::kDouble)).pow(2).sum(1) / variance - 0.5 * d * (kLogTwoPi + std::log(variance));
}

// ---------------------------------------------------------------------------
// Linear: b(x, t) = (1/2 + t) A x. The time factor integrates to 1 over [0, 1]
// and commutes with A, so X1 = expm(A) X0 and, with X0 ~ N(0, I),
//   log rho1(x) = log N(expm(-A) x; 0, I) - tr(A).
// x may have any sample shape; A acts on the flattened sample.
// ---------------------------------------------------------------------------
inline Field linear_field(const torch::Tensor& a) {
  return [a](const torch::Tensor& x, const torch::Tensor& t) {
    const torch::Tensor flat = x.reshape({x.size(0), -1});
    const torch::Tensor rate = (0.5 + t).unsqueeze(1);
    return (rate * torch::matmul(flat, a.to(x.scalar_type()).t())).reshape(x.sizes());
  };
}

/// X0 = expm(-A) x for x [n, ...] (float64).
inline torch::Tensor linear_source_point(const torch::Tensor& a, const torch::Tensor& x) {
  const torch::Tensor flat = x.reshape({x.size(0), -1}).to(torch::kDouble);
  return torch::matmul(flat, torch::matrix_exp(-a.to(torch::kDouble)).t()).reshape(x.sizes());
}

inline torch::Tensor linear_log_prob(const torch::Tensor& a, const torch::Tensor& x) {
  return standard_normal_log_prob(linear_source_point(a, x)) - a.to(torch::kDouble).trace().item<double>();
}

// ---------------------------------------------------------------------------
// theory.md 10.1: the linear stochastic interpolant from rho0 = N(0, I) to
// rho1 = N(mu, sigma1^2 I) with gamma = sqrt(a t (1 - t)):
//   C_t = (1 - t)^2 + t^2 sigma1^2 + a t (1 - t),  b = mu + (C'_t / 2 C_t)(x - t mu),
// so rho_t = N(t mu, C_t I) and X_t = t mu + sqrt(C_t) X0.
// ---------------------------------------------------------------------------
struct GaussianInterpolant {
  torch::Tensor mu;  // [d], float64
  double sigma1 = 1.0;
  double a = 0.0;

  double variance(double t) const { return (1 - t) * (1 - t) + t * t * sigma1 * sigma1 + a * t * (1 - t); }

  Field field() const {
    const torch::Tensor mean = mu;
    const double s2 = sigma1 * sigma1, gamma2 = a;
    return [mean, s2, gamma2](const torch::Tensor& x, const torch::Tensor& t) {
      const torch::Tensor m = mean.to(x.scalar_type());
      const torch::Tensor tt = t.unsqueeze(1);
      const torch::Tensor c = (1 - tt).pow(2) + tt.pow(2) * s2 + gamma2 * tt * (1 - tt);
      const torch::Tensor c_dot = -2 * (1 - tt) + 2 * tt * s2 + gamma2 * (1 - 2 * tt);
      return m + c_dot / (2 * c) * (x - tt * m);
    };
  }

  /// log rho_t(x) = log N(x; t mu, C_t I).
  torch::Tensor log_prob(const torch::Tensor& x, double t) const { return isotropic_normal_log_prob(x, t * mu, variance(t)); }
};

// ---------------------------------------------------------------------------
// The same linear interpolant from N(0, I) to an isotropic Gaussian mixture
// sum_j p_j N(mu_j, s_j^2 I) (theory.md section 1, GMM case with one source
// component): component j moves as N(t mu_j, c_j(t) I) with
//   c_j = (1 - t)^2 + t^2 s_j^2 + a t (1 - t),
// and the field is the posterior-weighted sum of the component fields
//   b = sum_j w_j(x, t) [mu_j + (c_j' / 2 c_j)(x - t mu_j)],  w_j ∝ p_j N(x; t mu_j, c_j I).
// Nonlinear in x, so Hutchinson estimates have variance for every probe law.
// ---------------------------------------------------------------------------
struct GaussianToMixture {
  torch::Tensor weights;  // [K]
  torch::Tensor means;    // [K, d]
  torch::Tensor stds;     // [K]
  double a = 0.5;

  Field field() const {
    const torch::Tensor p = weights, mu = means, s = stds;
    const double gamma2 = a;
    return [p, mu, s, gamma2](const torch::Tensor& x, const torch::Tensor& t) {
      const auto dtype = x.scalar_type();
      const double d = static_cast<double>(x.size(1));
      const torch::Tensor tt = t.unsqueeze(1);                    // [n, 1]
      const torch::Tensor s2 = s.to(dtype).pow(2).unsqueeze(0);  // [1, K]
      const torch::Tensor c = (1 - tt).pow(2) + tt.pow(2) * s2 + gamma2 * tt * (1 - tt);      // [n, K]
      const torch::Tensor c_dot = -2 * (1 - tt) + 2 * tt * s2 + gamma2 * (1 - 2 * tt);       // [n, K]
      const torch::Tensor centred = x.unsqueeze(1) - tt.unsqueeze(2) * mu.to(dtype).unsqueeze(0);  // [n, K, d]
      const torch::Tensor log_w = torch::log(p.to(dtype)).unsqueeze(0) - 0.5 * centred.pow(2).sum(2) / c -
                                  0.5 * d * torch::log(c);
      const torch::Tensor w = torch::softmax(log_w, 1).unsqueeze(2);  // [n, K, 1]
      const torch::Tensor component = mu.to(dtype).unsqueeze(0) + (c_dot / (2 * c)).unsqueeze(2) * centred;
      return (w * component).sum(1);
    };
  }

  /// log rho1(x) = log sum_j p_j N(x; mu_j, s_j^2 I).
  torch::Tensor log_prob(const torch::Tensor& x) const {
    std::vector<torch::Tensor> terms;
    for (int64_t j = 0; j < weights.size(0); ++j) {
      const double s = stds[j].item<double>();
      terms.push_back(std::log(weights[j].item<double>()) + isotropic_normal_log_prob(x, means[j], s * s));
    }
    return torch::logsumexp(torch::stack(terms, 1), 1);
  }
};

/// Three unequal, overlapping components in 2-D.
inline GaussianToMixture three_component_mixture() {
  const auto f64 = torch::kDouble;
  return {torch::tensor({0.2, 0.5, 0.3}, f64), torch::tensor({{-2.0, 0.5}, {1.5, 1.0}, {0.0, -1.5}}, f64),
          torch::tensor({0.4, 0.7, 0.5}, f64), 0.5};
}

// ---------------------------------------------------------------------------
// Rotation whose angular speed grows with the radius: b = (1 + |x|^2) R x with
// R the rotation generator in 2-D. |x| is constant along each path, so the
// speed is too; div b = 0, so N(0, I) is invariant: log rho1(x) = log N(x; 0, I)
// and X0 is x turned by -(1 + |x|^2) radians. Far rows turn much faster than
// near ones, so an adaptive solver finishes the near rows first.
// ---------------------------------------------------------------------------
inline Field radial_rotation_field() {
  return [](const torch::Tensor& x, const torch::Tensor&) {
    const torch::Tensor speed = 1 + x.pow(2).sum(1, /*keepdim=*/true);
    return speed * torch::stack({-x.select(1, 1), x.select(1, 0)}, 1);
  };
}

inline torch::Tensor radial_rotation_source_point(const torch::Tensor& x) {
  const torch::Tensor x64 = x.to(torch::kDouble);
  const torch::Tensor angle = -(1 + x64.pow(2).sum(1));
  const torch::Tensor u = x64.select(1, 0), v = x64.select(1, 1);
  return torch::stack({u * torch::cos(angle) - v * torch::sin(angle), u * torch::sin(angle) + v * torch::cos(angle)}, 1);
}

/// Largest absolute difference, as a double.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

/// Options for `divergence` with dopri5 at tolerance `tol`.
inline LikelihoodOptions likelihood_options(const std::string& divergence, int64_t probes = 1,
                                            const std::string& probe = "rademacher", double tol = 1e-5) {
  LikelihoodOptions options;
  options.divergence = divergence;
  options.probes = probes;
  options.probe = probe;
  options.solver_options.atol = tol;
  options.solver_options.rtol = tol;
  return options;
}

}  // namespace flowlab::solvers::closed_form
