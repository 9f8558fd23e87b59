#pragma once
// Kinetic-optimal (KO) Gaussian paths (Shaul, Chen, Nickel, Le & Lipman, ICML 2023): among
// paths N(a_t x1, m_t^2 I) from (a, m) = (0, 1) to (1, 0), the one of least kinetic energy on
// the data. With the normalised coefficient a~ = sqrt(mu2) a and polar coordinates
// (a~, m) = r (sin theta, cos theta), the energy is int r'^2 + r^2 theta'^2 gamma(theta) dt,
// gamma = 1 - h (data_separation.h). In the plane with polar coordinates (r, psi),
// psi(theta) = int_0^theta sqrt(gamma), this is the length^2 of a curve from (1, 0) to
// (sqrt(mu2), Phi), Phi = psi(pi/2); the minimiser is the straight line at constant speed:
//   P(t) = (1 - t) (1, 0) + t sqrt(mu2) (cos Phi, sin Phi),  r_t = |P(t)|,
//   theta_t = psi^-1(arg P(t)),  E_KO = 1 + mu2 - 2 sqrt(mu2) cos Phi
// (b = 2 (1 - cos Phi) for mu2 = 1: theory.md section 2). The same path is also found by
// direct numerical minimisation of the energy over monotone piecewise-linear schedules.
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "flowlab/paths/data_separation.h"
#include "flowlab/paths/path.h"
#include "flowlab/paths/monotone_cubic.h"

namespace flowlab::paths {

/// A schedule in polar form on a grid t (float64 [K+1], from 0 to 1): the normalised coefficients
/// (sqrt(mu2) a_t, m_t) = r_t (sin theta_t, cos theta_t), r from 1 to sqrt(mu2), theta from 0 to pi/2.
struct KineticOptimalSchedule {
  torch::Tensor t, r, theta;
  double radius = 1.0;  ///< sqrt(mu2), the end of r
  double energy = 0.0;  ///< the closed form E_KO, or the minimised value
  double phi = 0.0;     ///< Phi = int_0^{pi/2} sqrt(gamma) (closed form only)
};

/// The closed-form KO schedule on the Chebyshev-Lobatto grid t_k = (1 - cos(pi k / K)) / 2
/// (dense near both ends, where theta_t moves fastest). gamma is floored at 1e-12 so that psi
/// is invertible where the data look Gaussian (gamma = 0: every angle costs nothing there).
KineticOptimalSchedule kinetic_optimal_closed_form(const DataSeparation& separation, int64_t intervals = 256);

/// Direct minimisation (L-BFGS, float64) of the energy formula of kinetic_energy.h over schedules
/// with r and theta piecewise linear on the Chebyshev-Lobatto grid with `intervals` pieces (theta
/// increasing from 0 to pi/2 by cumulative softmax increments, log r free inside), each piece's
/// integrand evaluated at its midpoint; started from Cond-OT. It uses neither psi nor the straight
/// line of the closed form.
KineticOptimalSchedule kinetic_optimal_minimised(const DataSeparation& separation, int64_t intervals = 64,
                                                 int64_t iterations = 500);

struct KineticOptimalOptions {
  SeparationOptions separation;
  std::string method = "closed_form";  ///< closed_form | minimised: which schedule the path uses
  int64_t intervals = 256;             ///< table intervals of the closed form
  int64_t minimise_intervals = 64;     ///< pieces of the minimised schedule
  static KineticOptimalOptions read(config::Node& node);
};

/// `path: {type: kinetic_optimal}`: the KO schedule of the training data, computed by fit() when
/// training starts (lambda estimated from the data, then both solutions, whose agreement is
/// logged): x_t = m_t x0 + a_t x1, x0 ~ N(0, I). r_t and theta_t are tabulated and interpolated by
/// monotone cubics, not a_t and m_t: where the data look Gaussian at low SNR theta_t rises like a
/// power of t below 1 at no cost, and interpolating the Cartesian coefficients across that turn
/// would cut the corner and cost energy. The table is the path's state(): checkpoints carry it,
/// so sampling and evaluation never need the data.
class KineticOptimalPath : public Path {
 public:
  /// Not fitted yet: at() throws until fit() or load_state().
  explicit KineticOptimalPath(const KineticOptimalOptions& options);
  /// The path of a computed schedule.
  explicit KineticOptimalPath(const KineticOptimalSchedule& schedule);

  Coefficients at(const torch::Tensor& t) const override;
  bool gaussian_source() const override { return true; }
  bool deterministic() const override { return true; }

  bool needs_fit() const override { return !fitted_; }
  std::string fit(const DataDraw& draw, uint64_t seed) override;

  /// "t", "r", "theta" [K+1] and "radius" [1], float64; empty before fit().
  std::vector<std::pair<std::string, torch::Tensor>> state() const override;
  /// Takes a table of any size; throws Error when it is malformed.
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state) override;

  const KineticOptimalOptions& options() const { return options_; }

 private:
  void set_schedule(const torch::Tensor& t, const torch::Tensor& r, const torch::Tensor& theta, double radius);

  KineticOptimalOptions options_;
  bool fitted_ = false;
  torch::Tensor t_;
  double radius_ = 1.0;
  std::vector<MonotoneCubic> cubics_;  // r, theta
};

/// The largest difference in a or m between the path of schedule `a` and schedule `b` at b's knots.
double schedule_gap(const KineticOptimalSchedule& a, const KineticOptimalSchedule& b);

}  // namespace flowlab::paths
