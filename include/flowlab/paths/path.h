#pragma once
// Every path is one interpolant
//   x_t = alpha(t) x0 + beta(t) x1 + gamma(t) z,   z ~ N(0, I),
// with alpha(0)=1, beta(0)=0, alpha(1)=0, beta(1)=1, gamma(0)=gamma(1)=0.
// A concrete path only supplies its coefficients; sampling x_t, regression
// targets and conversions between prediction types live here, once.
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

/// Network outputs at one (x, t), each with what it predicts.
using Predictions = std::vector<std::pair<Prediction, torch::Tensor>>;

/// Draws n training data points [n, ...] (for paths computed from the data).
using DataDraw = std::function<torch::Tensor(int64_t n)>;

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

  /// Tensors that define this path beyond its config (saved in checkpoints).
  virtual std::vector<std::pair<std::string, torch::Tensor>> state() const { return {}; }
  /// Restores what state() returned.
  virtual void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& /*state*/) {}
  /// True when x0 = x1 (the mirror interpolant: data to itself).
  virtual bool mirror() const { return false; }

  /// True for a path computed from the training data (kinetic_optimal) that has not been yet: the
  /// trainer calls fit() before the first step, and checkpoints carry the result (state()).
  virtual bool needs_fit() const { return false; }
  /// Computes the path from data drawn with `draw`, with random numbers seeded by `seed`; returns a
  /// line for the log. Paths defined by their config alone have nothing to do.
  virtual std::string fit(const DataDraw& /*draw*/, uint64_t /*seed*/) { return ""; }

  /// x_t and d/dt x_t for endpoints x0, x1 [B, ...], times t [B] and latent z
  /// (ignored and may be undefined when deterministic()).
  virtual PathSample sample(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t,
                            const torch::Tensor& z) const;
  /// The shape checks of sample(), for paths that override it.
  static void check_sample_shapes(const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t);

  /// The regression target for a network predicting `kind`: the quantity whose conditional
  /// expectation given x_t is the prediction (d/dt x_t, x0, x1, z, the conditional score, or
  /// d/dt (alpha x0 + beta x1)). Throws Error where it is undefined (see check_target).
  torch::Tensor target(Prediction kind, const PathSample& s) const;
  /// Throws Error when `kind` has no regression target on this path: a denoiser needs
  /// gamma > 0 and the noise prediction a Gaussian source.
  void check_target(Prediction kind) const;

  /// Converts a network output of kind `kind` at (x, t) into the velocity b, the
  /// score, or the data estimate E[x1 | x_t = x]. Needs gaussian_source() unless kind
  /// already is the requested quantity.
  torch::Tensor to_velocity(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                            const torch::Tensor& t) const;
  torch::Tensor to_score(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                         const torch::Tensor& t) const;
  torch::Tensor to_data(Prediction kind, const torch::Tensor& out, const torch::Tensor& x,
                        const torch::Tensor& t) const;

  /// Throws Error when predicting `kind` cannot be turned into a velocity on this path.
  void check_convertible(Prediction kind) const;

  /// Fields predicted together (one network with two heads, or two networks) determine the
  /// velocity when one of them is the velocity, when the source is Gaussian (any one of them
  /// then determines everything), or, on two-sided paths, from v and a denoiser or score:
  /// b = v + gamma' eta_z = v - gamma gamma' s. Empty when they do; otherwise why not.
  std::string why_no_velocity(const std::vector<Prediction>& kinds) const;
  /// The score is determined by a score, by a denoiser (s = -eta_z / gamma) or, on Gaussian-source
  /// paths, by any prediction (a score, denoiser or noise field first, when the model has one).
  /// Empty when it is; otherwise why not.
  std::string why_no_score(const std::vector<Prediction>& kinds) const;
  /// The velocity and the score from network outputs `outputs` at (x, t); throw Error with the
  /// why_no_* reason when the outputs do not determine them.
  torch::Tensor velocity(const Predictions& outputs, const torch::Tensor& x, const torch::Tensor& t) const;
  torch::Tensor score(const Predictions& outputs, const torch::Tensor& x, const torch::Tensor& t) const;
};

/// Reshapes a [B] coefficient to broadcast against x [B, ...].
torch::Tensor broadcast_to_sample(const torch::Tensor& coefficient, const torch::Tensor& x);

/// The "paths" family.
Registry<Path>& path_registry();
void register_builtin_paths();

}  // namespace flowlab::paths
