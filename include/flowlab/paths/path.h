#pragma once
// Every path is one interpolant
//   x_t = alpha(t) x0 + beta(t) x1 + gamma(t) z,   z ~ N(0, I),
// with alpha(0)=1, beta(0)=0, alpha(1)=0, beta(1)=1, gamma(0)=gamma(1)=0.
// A concrete path only supplies its coefficients; sampling x_t, regression
// targets and conversions between prediction types live here, once.
#include <torch/types.h>

#include <memory>
#include <string>

#include "flowlab/core/registry.h"
#include "flowlab/paths/prediction.h"

namespace flowlab::paths {

/// Coefficients at times t [B]; every field is [B]. gamma_d_gamma = gamma * d gamma / dt is
/// kept in closed form because d gamma / dt may diverge at the endpoints.
struct Coefficients {
  torch::Tensor alpha, beta, gamma, d_alpha, d_beta, d_gamma, gamma_d_gamma;
};

/// One draw of the interpolant and the quantities regression targets need.
struct PathSample {
  torch::Tensor t, x0, x1, z;  ///< inputs (z undefined when gamma == 0)
  torch::Tensor x_t;           ///< the interpolant
  torch::Tensor dx_t;          ///< d/dt x_t: the conditional velocity
};

class Path {
 public:
  virtual ~Path() = default;
  /// Coefficients at t [B].
  virtual Coefficients at(const torch::Tensor& t) const = 0;
  /// True when x0 ~ N(0, I) (one-sided): then one prediction determines b, s and E[x1|x].
  virtual bool gaussian_source() const = 0;
  /// True when gamma(t) == 0 for all t (no latent z is drawn).
  virtual bool deterministic() const = 0;
  /// Times within `clip` of an endpoint where conversions divide by a vanishing
  /// coefficient are moved inside [clip, 1 - clip].
  virtual double clip() const { return 1e-4; }

  /// x_t and d/dt x_t for endpoints x0, x1 [B, ...], times t [B] and latent z
  /// (ignored and may be undefined when deterministic()).
  PathSample sample(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t,
                    const torch::Tensor& z) const;

  /// The regression target for a network predicting `kind`.
  torch::Tensor target(Prediction kind, const PathSample& s) const;

  /// Converts a network output of kind `kind` at (x, t) into the velocity b, the
  /// score, or the data estimate E[x1 | x_t = x]. Needs gaussian_source() unless kind
  /// already is the requested quantity.
  torch::Tensor to_velocity(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                            const torch::Tensor& t) const;
  torch::Tensor to_score(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                         const torch::Tensor& t) const;
  torch::Tensor to_data(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                        const torch::Tensor& t) const;

  /// Throws ConfigError-free Error when predicting `kind` cannot be turned into a velocity on this path.
  void check_convertible(Prediction kind) const;
};

/// Reshapes a [B] coefficient to broadcast against x [B, ...].
torch::Tensor broadcast_to_sample(const torch::Tensor& coefficient, const torch::Tensor& x);

/// The "paths" family.
Registry<Path>& path_registry();
void register_builtin_paths();

}  // namespace flowlab::paths
