#include "flowlab/ot/energy_distance.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::ot {
namespace {

using testing::numpy_array;
using testing::parse_numbers;

// Independent oracle: the V-statistic formula with explicit pairwise norms.
const char* kNumpyEnergy =
    "import numpy as np\n"
    "def mean_dist(a, b):\n"
    "    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).mean()\n"
    "def energy(a, b):\n"
    "    return np.sqrt(2 * mean_dist(a, b) - mean_dist(a, a) - mean_dist(b, b))\n";

TEST(EnergyDistance, EqualsScipyInOneDimension) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  const torch::Tensor x = torch::randn({300}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({200}, gen, torch::kFloat64) * 1.5 + 0.3;
  const auto expected = parse_numbers(flowlab::testing::run_python(
      "import numpy as np, scipy.stats\n"
      "x = " + numpy_array(x) + "\n"
      "y = " + numpy_array(y) + "\n"
      "print('%.17g' % scipy.stats.energy_distance(x, y))\n"));
  ASSERT_EQ(expected.size(), 1u);
  ASSERT_GT(expected[0], 0.1);  // a real difference, not a degenerate zero
  EXPECT_NEAR(energy_distance(x, y), expected[0], 1e-10);
  // [N] and [N, 1] are the same samples.
  EXPECT_NEAR(energy_distance(x.unsqueeze(1), y.unsqueeze(1)), expected[0], 1e-10);
}

TEST(EnergyDistance, MatchesNumpyFormulaInThreeDimensions) {
  at::Generator gen = at::detail::createCPUGenerator(12);
  const torch::Tensor x = torch::randn({150, 3}, gen, torch::kFloat64);
  const torch::Tensor shift = torch::tensor({0.5, 0.0, -0.2}, torch::kFloat64);
  const torch::Tensor y = torch::randn({120, 3}, gen, torch::kFloat64) * 0.8 + shift;
  const auto expected = parse_numbers(flowlab::testing::run_python(
      std::string(kNumpyEnergy) + "x = " + numpy_array(x) + "\ny = " + numpy_array(y) +
      "\nprint('%.17g' % energy(x, y))\n"));
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_NEAR(energy_distance(x, y), expected[0], 1e-10);
  // float32 input, image-shaped input: computed in float64 from the same values.
  EXPECT_NEAR(energy_distance(x.to(torch::kFloat32), y.to(torch::kFloat32)), expected[0], 1e-5);
}

TEST(EnergyDistance, ManyBlocksAndHighDimensionMatchNumpy) {
  at::Generator gen = at::detail::createCPUGenerator(13);
  // 2-D with 2500 x 3000 pairs: split into several row blocks internally.
  const torch::Tensor x = torch::randn({3000, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({2500, 2}, gen, torch::kFloat64) + 0.25;
  // 40-D images [N, 2, 4, 5] take the matrix-product path.
  const torch::Tensor u = torch::randn({60, 2, 4, 5}, gen, torch::kFloat64);
  const torch::Tensor v = torch::randn({70, 2, 4, 5}, gen, torch::kFloat64) * 1.2;
  const auto expected = parse_numbers(flowlab::testing::run_python(
      std::string(kNumpyEnergy) + "x = " + numpy_array(x) + "\ny = " + numpy_array(y) + "\nu = " +
      numpy_array(u) + ".reshape(60, -1)\nv = " + numpy_array(v) +
      ".reshape(70, -1)\nprint('%.17g %.17g' % (energy(x, y), energy(u, v)))\n"));
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_NEAR(energy_distance(x, y), expected[0], 1e-10);
  EXPECT_NEAR(energy_distance(u, v), expected[1], 1e-8);
}

TEST(EnergyDistance, ZeroForIdenticalSetsSymmetricAndGrowsWithShift) {
  at::Generator gen = at::detail::createCPUGenerator(14);
  const torch::Tensor x = torch::randn({400, 3}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({300, 3}, gen, torch::kFloat64);
  EXPECT_EQ(energy_distance(x, x), 0.0);
  EXPECT_LT(energy_distance(x, x.flip(0)), 1e-6);  // same measure, other order
  EXPECT_DOUBLE_EQ(energy_distance(x, y), energy_distance(y, x));
  const double near = energy_distance(x, y + 0.5);
  const double far = energy_distance(x, y + 2.0);
  EXPECT_GT(near, energy_distance(x, y));
  EXPECT_GT(far, near + 0.5);
  // Shifting both sets together changes nothing.
  EXPECT_NEAR(energy_distance(x + 3.0, y + 3.0), energy_distance(x, y), 1e-12);
}

TEST(EnergyDistance, RejectsMismatchedShapesAndEmptySets) {
  EXPECT_THROW(energy_distance(torch::zeros({4, 3}), torch::zeros({4, 2})), c10::Error);
  EXPECT_THROW(energy_distance(torch::zeros({0, 3}), torch::zeros({4, 3})), c10::Error);
}

TEST(EnergyDistance, DoesNotBuildAGraph) {
  const torch::Tensor x = torch::randn({20, 2}).requires_grad_();
  const torch::Tensor y = torch::randn({20, 2});
  EXPECT_GT(energy_distance(x, y), 0.0);
  EXPECT_FALSE(x.grad().defined());
}

TEST(EnergyDistance, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::Generator gen = at::detail::createCPUGenerator(15);
  const torch::Tensor x = torch::randn({500, 3}, gen);
  const torch::Tensor y = torch::randn({400, 3}, gen) + 0.3;
  EXPECT_NEAR(energy_distance(x.cuda(), y.cuda()), energy_distance(x, y), 1e-9);
}

}  // namespace
}  // namespace flowlab::ot
