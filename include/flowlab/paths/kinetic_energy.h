#pragma once
// The kinetic energy of a Gaussian path, (1/d) int_0^1 E_{p_t} |u_t(x)|^2 dt of its marginal
// velocity u_t: in closed form through the data separation function (Shaul et al. 2023),
//   E = int mu2 a'^2 + m'^2 - beta_t^2 mu2 (1 - lambda'(sqrt(mu2) a/m)) dt,  beta_t = a' - a m'/m,
// and of any velocity field (a trained model) by Monte Carlo over x_t ~ p_t.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "flowlab/paths/data_separation.h"
#include "flowlab/paths/fields.h"
#include "flowlab/paths/path.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::paths {

/// Up to t_max: paths whose noise level falls like sqrt(1 - t) (vp, vp_cosine, sbdm) have infinite
/// energy over [0, 1] on data of separated points, so energies are compared on [0, 1 - 1e-5], the
/// usual end of diffusion training (for paths with bounded velocity the difference is < 1e-4).
constexpr double kEnergyTimeMax = 1.0 - 1e-5;

struct PathEnergy {
  double energy = 0.0;       ///< the marginal velocity's energy
  double conditional = 0.0;  ///< E_c = int mu2 a'^2 + m'^2 dt: the conditional velocity's (lambda = 0)
};

/// The energy of a Gaussian-source path (x_t = alpha x0 + beta x1 + gamma z, x0 ~ N(0, I), so
/// a = beta and m = sqrt(alpha^2 + gamma^2)) on data with separation `separation`, by composite
/// Gauss-Legendre quadrature on [0, t_max] with panels refined towards both ends. Throws Error for
/// paths without a Gaussian source.
PathEnergy path_kinetic_energy(const Path& path, const DataSeparation& separation, double t_max = kEnergyTimeMax);

/// The integrand of the energy for a schedule given by a, m and their time derivatives (all [N],
/// float64): mu2 a'^2 + m'^2 - mu2 (a' m - a m')^2 h(theta) / (m^2 + mu2 a^2) with
/// theta = atan2(sqrt(mu2) a, m), finite wherever m^2 + a^2 > 0; differentiable in every input.
torch::Tensor kinetic_energy_integrand(const torch::Tensor& a, const torch::Tensor& m, const torch::Tensor& d_a,
                                       const torch::Tensor& d_m, const DataSeparation& separation);

/// A Monte-Carlo estimate and its standard error.
struct EnergyEstimate {
  double value = 0.0, se = 0.0;
};

/// (1/d) int_0^t_max E |field(x_t, t)|^2 dt with x_t drawn from `path` between x0 ~ N(0, I) and the
/// data points `data` [N, ...] (one time per point, stratified in [0, t_max]; z drawn with `gen`),
/// in batches of `batch` points. `field` maps (x [B, ...], t [B]) to the velocity [B, ...].
EnergyEstimate field_kinetic_energy(const solvers::Field& field, const Path& path, const torch::Tensor& data,
                                    at::Generator& gen, int64_t batch = 4096, double t_max = kEnergyTimeMax);
/// The same for a conditional field; each point's row of `condition` goes with it.
EnergyEstimate field_kinetic_energy(const ConditionalField& field, const data::Condition& condition, const Path& path,
                                    const torch::Tensor& data, at::Generator& gen, int64_t batch = 4096,
                                    double t_max = kEnergyTimeMax);

}  // namespace flowlab::paths
