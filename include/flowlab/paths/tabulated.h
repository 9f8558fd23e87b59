#pragma once
// A path whose coefficients are given on a grid 0 = t_0 < ... < t_K = 1 and
// interpolated by monotone cubics, so that schedules computed from data (kinetic-
// optimal ones) or read from a file are paths like any other. The table is the
// path's state(): checkpoints carry it, and sampling never needs the file again.
//
// Config:
//   type: tabulated
//   t: [0, 0.5, 1]            # the grid ...
//   alpha: [1, 0.4, 0]        # ... and the coefficients on it
//   beta: [0, 0.7, 1]
//   gamma: [0, 0.2, 0]        # optional: zeros
//   source: gaussian          # gaussian (x0 ~ N(0, I), one-sided) or any
// or, instead of the lists, file: schedule.npy holding [K+1, 3 or 4]: columns t, alpha, beta[, gamma]
// (a path relative to the working directory, like data files).
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "flowlab/paths/monotone_cubic.h"
#include "flowlab/paths/path.h"

namespace flowlab::paths {

struct TabulatedOptions {
  std::vector<double> t, alpha, beta, gamma;  ///< gamma empty: zeros
  std::string file;                           ///< .npy table instead of the lists
  bool gaussian_source = true;
  /// Reads and checks the lists or the file; every problem is a ConfigError naming its key.
  static TabulatedOptions read(config::Node& node);
};

/// alpha, beta, gamma interpolated by monotone cubics (derivatives from the same cubics,
/// gamma_d_gamma = gamma * d_gamma). The grid runs from exactly 0 to exactly 1; the table must
/// satisfy alpha(0) = 1, beta(0) = 0, alpha(1) = 0, beta(1) = 1, gamma >= 0 and
/// gamma(0) = gamma(1) = 0 (within 1e-9; the endpoint values are then set exactly). Between knots the cubics stay within the
/// neighbouring values, so gamma >= 0 everywhere. The coefficients are smooth; like every
/// path, conversions divide by beta near t = 0 and by alpha^2 + gamma^2 near t = 1 (clip()).
class TabulatedPath : public Path {
 public:
  /// The table t, alpha, beta, gamma [K+1] (K >= 1); throws Error naming what is wrong.
  TabulatedPath(const torch::Tensor& t, const torch::Tensor& alpha, const torch::Tensor& beta,
                const torch::Tensor& gamma, bool gaussian_source = true);
  explicit TabulatedPath(const TabulatedOptions& options);

  Coefficients at(const torch::Tensor& t) const override;
  bool gaussian_source() const override { return gaussian_source_; }
  /// True when gamma is zero at every knot (and so everywhere).
  bool deterministic() const override { return deterministic_; }

  /// "t", "alpha", "beta", "gamma": float64 [K+1] on the CPU.
  std::vector<std::pair<std::string, torch::Tensor>> state() const override;
  /// Replaces the table by one state() returned; throws Error when the names, the shapes
  /// (those of the current table) or the endpoint conditions do not match.
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state) override;

 private:
  void set_table(const torch::Tensor& t, const torch::Tensor& alpha, const torch::Tensor& beta,
                 const torch::Tensor& gamma);

  bool gaussian_source_;
  bool deterministic_ = true;
  torch::Tensor t_;
  std::vector<MonotoneCubic> cubics_;  // alpha, beta, gamma
};

}  // namespace flowlab::paths
