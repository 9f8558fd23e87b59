// Intrinsic dimension from the score spectrum, with analytic scores (theory.md 10.8): a flat
// k-subspace gives k exactly; a k-sphere (score towards its nearest point) gives k within one.
// And the manifold datasets lie where they should, with the dimension they claim.
#include "flowlab/diagnostics/intrinsic_dimension.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/data/manifold.h"
#include "paths/make_path.h"
#include "support/config_error.h"

namespace flowlab::diagnostics {
namespace {

data::ManifoldDataset manifold(const std::string& shape, int64_t k, int64_t d, double noise = 0.0) {
  data::ManifoldOptions o;
  o.shape = shape, o.intrinsic_dim = k, o.ambient_dim = d, o.noise = noise, o.embedding_seed = 7;
  return data::ManifoldDataset(o);
}

// Data N(0, Q diag(I_k) Q^T) at noise sigma: s = -P_T x / (1 + sigma^2) - P_N x / sigma^2.
TEST(ScoreSpectrum, FlatSubspaceGivesItsDimensionExactly) {
  for (int64_t k : {1, 3, 7}) {
    const int64_t d = 12;
    const auto data = manifold("subspace", k, d);
    const auto q = data.embedding();
    const double sigma = 0.05;
    const PointField score = [&](const torch::Tensor& x) {
      const auto tangent = torch::matmul(torch::matmul(x, q), q.t());
      return -tangent / (1 + sigma * sigma) - (x - tangent) / (sigma * sigma);
    };
    auto gen = data::make_generator(k);
    const auto centres = data.sample(10, gen).x.to(torch::kFloat64);
    const auto r = score_spectrum_dimension(score, centres, sigma, 64, gen);
    EXPECT_TRUE((r.dimension == k).all().item<bool>()) << "k = " << k << ": " << r.dimension;
  }
}

// The k-sphere of radius 1 in R^D: at small sigma the score is -(x - pi(x)) / sigma^2, pi(x) the
// nearest point of the sphere.
TEST(ScoreSpectrum, SphereGivesItsDimensionWithinOne) {
  for (int64_t k : {2, 5}) {
    const int64_t d = 10;
    const auto data = manifold("sphere", k, d);
    const auto q = data.embedding();
    const double sigma = 0.01;
    const PointField score = [&](const torch::Tensor& x) {
      const auto in_span = torch::matmul(torch::matmul(x, q), q.t());
      const auto nearest = in_span / in_span.norm(2, 1, true);
      return -(x - nearest) / (sigma * sigma);
    };
    auto gen = data::make_generator(10 + k);
    const auto centres = data.sample(10, gen).x.to(torch::kFloat64);
    const auto r = score_spectrum_dimension(score, centres, sigma, 64, gen);
    EXPECT_TRUE(((r.dimension - k).abs() <= 1).all().item<bool>()) << "k = " << k << ": " << r.dimension;
  }
}

int64_t rank(const torch::Tensor& x) {
  const auto s = torch::linalg_svdvals(x);
  return (s > 1e-6 * s[0]).sum().item<int64_t>();
}

TEST(ManifoldData, SamplesLieOnTheirManifold) {
  auto gen = data::make_generator(1);
  const auto sphere = manifold("sphere", 3, 8);
  const auto x = sphere.sample(500, gen).x.to(torch::kFloat64);
  const auto q = sphere.embedding();
  EXPECT_LT((torch::matmul(q.t(), q) - torch::eye(4, torch::kFloat64)).abs().max().item<double>(), 1e-12);
  const auto coordinates = torch::matmul(x, q);
  EXPECT_LT((coordinates.norm(2, 1) - 1).abs().max().item<double>(), 1e-6);
  EXPECT_LT((x - torch::matmul(coordinates, q.t())).abs().max().item<double>(), 1e-6);
  // The subspace's samples have rank k; the swiss roll's have rank 3 in R^D (a curved 2-D sheet).
  const auto flat = manifold("subspace", 4, 9).sample(300, gen).x.to(torch::kFloat64);
  EXPECT_EQ(rank(flat), 4);
  const auto roll = manifold("swiss_roll", 2, 6).sample(300, gen).x.to(torch::kFloat64);
  EXPECT_EQ(rank(roll), 3);
  // Noise leaves the manifold in every direction; the same embedding_seed gives the same manifold.
  const auto noisy = manifold("sphere", 3, 8, 0.1).sample(500, gen).x.to(torch::kFloat64);
  EXPECT_NEAR((noisy - torch::matmul(torch::matmul(noisy, q), q.t())).pow(2).sum(1).mean().item<double>(),
              4 * 0.01, 0.005);
}

TEST(ManifoldData, ConfigErrorsNameTheirKey) {
  data::register_builtin_datasets();
  const auto fails_at = [](const std::string& yaml, const std::string& key) {
    testing::expect_config_error(
        [&] {
          config::Node node = config::Node::parse(yaml, "data.yaml");
          data::dataset_registry().create(node);
        },
        {key});
  };
  fails_at("type: manifold\nshape: sphere\nintrinsic_dim: 3\nambient_dim: 3\n", "ambient_dim");
  fails_at("type: manifold\nshape: swiss_roll\nintrinsic_dim: 3\nambient_dim: 5\n", "intrinsic_dim");
  fails_at("type: manifold\nshape: torus\n", "shape");
  fails_at("type: manifold\nnoise: -1\n", "noise");
}

}  // namespace
}  // namespace flowlab::diagnostics
