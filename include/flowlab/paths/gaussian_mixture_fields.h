#pragma once
// Exact fields of a path between Gaussian-mixture endpoints: the oracle that
// solvers, samplers and learned models are checked against. With x0, x1 and z
// independent (Albergo, Boffi, Vanden-Eijnden 2023, the gmm.py case),
//   rho_t = sum_ij p0_i p1_j N(m_ij, C_ij),  m_ij = alpha mu0_i + beta mu1_j,
//   C_ij = alpha^2 C0_i + beta^2 C1_j + gamma^2 I,
//   b = sum_ij w_ij [dm_ij + dC_ij C_ij^{-1} (x - m_ij) / 2],
//   dC_ij = 2 (alpha alpha' C0_i + beta beta' C1_j + gamma gamma' I),
// with w_ij the posterior component weights at x. On a mirror path x0 = x1, so
// x_t = (alpha + beta) x1 + gamma z and the pairs collapse to the target's components.
#include <torch/types.h>

#include "flowlab/data/gaussian_mixture.h"
#include "flowlab/paths/path.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::paths {

class GaussianMixtureFields {
 public:
  /// Source x0 ~ `source`, target x1 ~ `target`, same dimension d. `path` must outlive this
  /// object and every field made from it. Throws Error for a mirror path, whose source is its
  /// target (use the other constructor).
  GaussianMixtureFields(const Path& path, const data::GaussianMixture& source, const data::GaussianMixture& target);
  /// Source N(0, I) (the noise of a Gaussian-source path), or the target itself on a mirror path.
  GaussianMixtureFields(const Path& path, const data::GaussianMixture& target);

  /// For x [B, d] and t [B], computed in float64 and returned in x's dtype. The formulas are
  /// exact; where a path's coefficient derivative is infinite (see its doc) the velocity is not
  /// finite, and where C_ij is singular (alpha = beta = gamma = 0) every field throws Error.
  /// Memory is O(B I J d^2): meant for low dimensions.
  torch::Tensor velocity(const torch::Tensor& x, const torch::Tensor& t) const;  ///< b [B, d]
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const;     ///< grad log rho_t [B, d]
  torch::Tensor log_prob(const torch::Tensor& x, const torch::Tensor& t) const;  ///< log rho_t [B]

  /// The same as solver fields; each holds a copy of this object (and the path reference).
  solvers::Field velocity_field() const;
  solvers::Field score_field() const;

 private:
  struct Evaluation;
  Evaluation evaluate(const torch::Tensor& x, const torch::Tensor& t, bool with_velocity) const;

  const Path* path_;
  // One entry per pair (i, j) of source and target components: [M], [M, d], [M, d, d], float64.
  torch::Tensor log_weights_, source_means_, target_means_, source_covariances_, target_covariances_;
};

}  // namespace flowlab::paths
