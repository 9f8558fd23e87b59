#include "flowlab/data/manifold.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

namespace flowlab::data {

ManifoldOptions ManifoldOptions::read(config::Node& node) {
  ManifoldOptions o;
  o.shape = node.get_choice("shape", o.shape, {"sphere", "subspace", "swiss_roll"},
                            "sphere: the k-sphere; subspace: a k-dimensional linear subspace (Gaussian on it); "
                            "swiss_roll: the 2-D swiss roll");
  o.intrinsic_dim = node.get<int64_t>("intrinsic_dim", o.intrinsic_dim, "k (the swiss roll has k = 2)");
  o.ambient_dim = node.get<int64_t>("ambient_dim", o.ambient_dim, "D: the dimension of a sample");
  o.radius = node.get<double>("radius", o.radius, "sphere radius, subspace std, or swiss-roll scale");
  o.noise = node.get<double>("noise", o.noise, "std of isotropic Gaussian noise added in R^D");
  o.embedding_seed = node.get<int64_t>("embedding_seed", o.embedding_seed, "seed of the random isometric embedding");
  if (node.describing()) return o;
  node.expect(o.intrinsic_dim >= 1, "intrinsic_dim", "an integer >= 1");
  node.expect(o.shape != "swiss_roll" || o.intrinsic_dim == 2, "intrinsic_dim", "2 for the swiss roll");
  const int64_t needed = o.shape == "sphere" ? o.intrinsic_dim + 1 : o.shape == "subspace" ? o.intrinsic_dim : 3;
  node.expect(o.ambient_dim >= needed, "ambient_dim",
              "at least " + std::to_string(needed) + " for this shape and intrinsic_dim");
  node.expect(o.radius > 0 && std::isfinite(o.radius), "radius", "a number > 0");
  node.expect(o.noise >= 0 && std::isfinite(o.noise), "noise", "a number >= 0");
  return o;
}

ManifoldDataset::ManifoldDataset(const ManifoldOptions& options) : options_(options) {
  const int64_t columns = options.shape == "sphere"     ? options.intrinsic_dim + 1
                          : options.shape == "subspace" ? options.intrinsic_dim
                                                        : 3;
  TORCH_CHECK(options.ambient_dim >= columns, "manifold: ambient_dim ", options.ambient_dim, " < ", columns);
  at::Generator gen = at::detail::createCPUGenerator(static_cast<uint64_t>(options.embedding_seed));
  // Orthonormal columns from the QR factorisation of a Gaussian matrix (signs fixed by R's diagonal).
  const auto gaussian = torch::randn({options.ambient_dim, columns}, gen, torch::kFloat64);
  auto [q, r] = torch::linalg_qr(gaussian);
  embedding_ = q * torch::sign(torch::diagonal(r)).unsqueeze(0);
}

Batch ManifoldDataset::sample(int64_t n, at::Generator& gen) const {
  const ManifoldOptions& o = options_;
  torch::Tensor coordinates;
  if (o.shape == "sphere") {
    const auto u = torch::randn({n, o.intrinsic_dim + 1}, gen, torch::kFloat64);
    coordinates = o.radius * u / u.norm(2, 1, true);
  } else if (o.shape == "subspace") {
    coordinates = o.radius * torch::randn({n, o.intrinsic_dim}, gen, torch::kFloat64);
  } else {
    const auto t = 1.5 * M_PI * (1.0 + 2.0 * torch::rand({n}, gen, torch::kFloat64));
    const auto h = 21.0 * torch::rand({n}, gen, torch::kFloat64);
    coordinates = torch::stack({t * torch::cos(t), h, t * torch::sin(t)}, 1) * (o.radius / 10.0);
  }
  auto x = torch::matmul(coordinates, embedding_.t());
  if (o.noise > 0) x = x + o.noise * torch::randn({n, o.ambient_dim}, gen, torch::kFloat64);
  return {x.to(torch::kFloat32), {}};
}

}  // namespace flowlab::data
