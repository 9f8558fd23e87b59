#pragma once
// Data of known intrinsic dimension k, isometrically embedded in R^D (registered as
// "manifold"): the test sets of intrinsic-dimension estimators (Stanczuk et al.; Horvat &
// Pfister). A fixed random embedding Q [D, k+1] with orthonormal columns (from `embedding_seed`,
// so every run of a config sees the same manifold) places the clean set, then isotropic noise
// of std `noise` is added in R^D:
//   sphere      k-sphere: u / |u|, u ~ N(0, I_{k+1}), times `radius`; x = Q u   (D >= k + 1)
//   subspace    k-dimensional linear subspace: u ~ N(0, I_k) * `radius`; x = Q_k u  (D >= k)
//   swiss_roll  2-D sheet (as scikit-learn's make_swiss_roll): t = 1.5 pi (1 + 2 U[0, 1)),
//               h = 21 U[0, 1); (t cos t, h, t sin t) * radius / 10 in R^3, then x = Q of it
//               (D >= 3; k is 2)
#include <cstdint>
#include <string>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"

namespace flowlab::data {

struct ManifoldOptions {
  std::string shape = "sphere";  ///< sphere | subspace | swiss_roll
  int64_t intrinsic_dim = 2;     ///< k (swiss_roll: 2)
  int64_t ambient_dim = 3;       ///< D
  double radius = 1.0;
  double noise = 0.0;
  int64_t embedding_seed = 0;
  static ManifoldOptions read(config::Node& node);
};

class ManifoldDataset : public Dataset {
 public:
  explicit ManifoldDataset(const ManifoldOptions& options);
  std::vector<int64_t> sample_shape() const override { return {options_.ambient_dim}; }
  Batch sample(int64_t n, at::Generator& gen) const override;
  /// The embedding's orthonormal columns [D, m] (m = k + 1 for the sphere, k for the subspace, 3 for
  /// the swiss roll), float64.
  const torch::Tensor& embedding() const { return embedding_; }
  const ManifoldOptions& options() const { return options_; }

 private:
  ManifoldOptions options_;
  torch::Tensor embedding_;
};

}  // namespace flowlab::data
