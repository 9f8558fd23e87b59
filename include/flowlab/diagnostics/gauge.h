#pragma once
// The gauge decomposition of a field (Horvat & Pfister 2024): f = grad phi + r with grad phi
// the L2(p_t) projection of f onto gradient fields, so E|f|^2 = E|grad phi|^2 + E|r|^2 and
// div(p_t r) = 0. phi(x, t) is fitted for all t at once as an energy network (field -grad E)
// by regressing it onto f at points x_t ~ p_t of the path: the minimiser of
// E_t E_{x_t} |-grad E - f|^2 over gradient fields is exactly that projection.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <functional>
#include <limits>
#include <memory>

#include "flowlab/nn/energy_mlp.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::diagnostics {

struct GaugeFitOptions {
  std::vector<int64_t> hidden{128, 128, 128};
  int64_t steps = 3000;
  int64_t batch = 512;
  double lr = 2e-3;
};

/// Points x_t [n, ...] of the path at times t [n].
using PathSampler = std::function<torch::Tensor(const torch::Tensor& t, at::Generator& gen)>;

/// The conservative part of `field`: an energy network fitted by Adam (cosine-decayed learning
/// rate) with t ~ U(0, 1) and x_t from `sample_path`. Its forward() is grad phi.
std::shared_ptr<nn::EnergyMlp> fit_conservative_part(const solvers::Field& field, const PathSampler& sample_path,
                                                     const std::vector<int64_t>& sample_shape,
                                                     const GaugeFitOptions& options, at::Generator& gen,
                                                     torch::Device device = torch::kCPU);

/// What a gauge report compares at one time.
struct GaugeFields {
  solvers::Field field;               ///< f
  solvers::Field potential_gradient;  ///< grad phi, fitted to f
  solvers::Field score;               ///< s, the score of p_t (the model's own where p_t is unknown)
  /// Optional: grad psi, fitted the same way to the remainder f - grad phi. The true remainder r* is
  /// orthogonal to every gradient (in L2 over t and x_t), so f - grad phi = r* + e with e, the first
  /// fit's error, a gradient; grad psi takes out what it can of e. E|r - grad psi|^2 >= E|r*|^2 for any
  /// psi: the refined share is a tighter upper bound than the share itself.
  solvers::Field remainder_gradient;
};

struct GaugeReport {
  double remainder_share = 0.0;  ///< E|r|^2 / E|f|^2 at the points
  /// With GaugeFields::remainder_gradient (NaN without): E|grad psi|^2 / E|f|^2, the part of the share
  /// found to be the first fit's error, and E|r - grad psi|^2 / E|f|^2, the share without it.
  double fit_error_share = std::numeric_limits<double>::quiet_NaN();
  double refined_share = std::numeric_limits<double>::quiet_NaN();
  /// rms(div r + r . s): how far r is from the gauge condition div(p r) / p = 0; s is the score of p_t.
  double gauge_residual_rms = 0.0;
  /// The same relative to rms(div f + f . s), the field's own (meaningful when f is not itself a gauge field).
  double gauge_residual = 0.0;
  int64_t probes = 0;  ///< 0: exact divergences; else Hutchinson's estimator with this many probes
};

/// At points x [B, ...] and time t: the remainder r = f - grad phi, its share, and the gauge residual.
/// With probes = 0 the divergences are exact (d backward passes); with an even probes >= 2 they are
/// Hutchinson estimates (Rademacher probes from `gen`, one backward pass each, any d), and the mean
/// square residual is the mean of the product of two independent half-estimates, unbiased (the square
/// of one estimate would add its variance).
GaugeReport gauge_report(const GaugeFields& fields, const torch::Tensor& x, double t, int64_t probes,
                         at::Generator& gen);

}  // namespace flowlab::diagnostics
