// Ground costs against explicit differences, in both of squared_distances' regimes (explicit
// differences up to 16 coordinates, one GEMM of augmented points above), with their gradients,
// batches and broadcast batches.
#include "flowlab/ot/ground_cost.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace flowlab::ot {
namespace {

torch::Tensor explicit_squared(const torch::Tensor& x, const torch::Tensor& y) {
  return (x.unsqueeze(-2) - y.unsqueeze(-3)).pow(2).sum(-1);
}

TEST(GroundCost, EveryCostMatchesExplicitDifferencesInLowAndHighDimension) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  for (int64_t d : {2, 16, 17, 64}) {
    const torch::Tensor x = torch::randn({3, 9, d}, gen, torch::kFloat64);
    const torch::Tensor y = torch::randn({3, 7, d}, gen, torch::kFloat64) + 0.3;
    const torch::Tensor expected = explicit_squared(x, y);
    EXPECT_TRUE(torch::allclose(cost_matrix(x, y, GroundCost::squared_euclidean), expected, 1e-12, 1e-12)) << d;
    EXPECT_TRUE(torch::allclose(cost_matrix(x, y, GroundCost::half_squared_euclidean), 0.5 * expected, 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(cost_matrix(x, y, GroundCost::euclidean), expected.sqrt(), 1e-10, 1e-10)) << d;
    // Unbatched points, and a batch against one shared cloud (broadcast).
    EXPECT_TRUE(torch::allclose(cost_matrix(x[0], y[0], GroundCost::squared_euclidean), expected[0], 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(cost_matrix(x, y.narrow(0, 0, 1), GroundCost::squared_euclidean),
                                explicit_squared(x, y.narrow(0, 0, 1)), 1e-12, 1e-12));
    // A point against itself costs exactly 0, never a negative rounding error.
    EXPECT_GE(cost_matrix(x, x, GroundCost::squared_euclidean).min().item<double>(), 0.0);
  }
}

TEST(GroundCost, GradientsMatchExplicitDifferences) {
  at::Generator gen = at::detail::createCPUGenerator(4);
  for (int64_t d : {3, 40}) {
    const torch::Tensor x = torch::randn({2, 6, d}, gen, torch::kFloat64).requires_grad_(true);
    const torch::Tensor y = torch::randn({2, 5, d}, gen, torch::kFloat64).requires_grad_(true);
    const torch::Tensor weights = torch::rand({2, 6, 5}, gen, torch::kFloat64);
    const auto grads = torch::autograd::grad({(cost_matrix(x, y, GroundCost::squared_euclidean) * weights).sum()}, {x, y});
    const auto expected = torch::autograd::grad({(explicit_squared(x, y) * weights).sum()}, {x, y});
    EXPECT_TRUE(torch::allclose(grads[0], expected[0], 1e-10, 1e-10)) << d;
    EXPECT_TRUE(torch::allclose(grads[1], expected[1], 1e-10, 1e-10)) << d;
  }
}

}  // namespace
}  // namespace flowlab::ot
