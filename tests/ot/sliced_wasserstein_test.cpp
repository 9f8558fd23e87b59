#include "flowlab/ot/sliced_wasserstein.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::ot {
namespace {

using testing::numpy_array;
using testing::parse_numbers;

// POT 0.8.2 divides by its n_projections argument even when explicit
// projections are given, so the script passes both.
std::string pot_sliced(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& theta, double p) {
  return "ot.sliced_wasserstein_distance(" + numpy_array(x) + ", " + numpy_array(y) + ", projections=" +
         numpy_array(theta) + ", n_projections=" + std::to_string(theta.size(1)) + ", p=" + std::to_string(p) + ")";
}

TEST(SlicedWasserstein, MatchesPotForEqualAndUnequalSizes) {
  at::Generator gen = at::detail::createCPUGenerator(21);
  const torch::Tensor x = torch::randn({200, 3}, gen, torch::kFloat64);
  const torch::Tensor y_same = torch::randn({200, 3}, gen, torch::kFloat64) * 1.3 + 0.4;
  const torch::Tensor y_other = torch::randn({137, 3}, gen, torch::kFloat64) * 0.7 - 0.2;
  const torch::Tensor theta = random_unit_directions(3, 20, gen);
  ASSERT_EQ(theta.sizes(), (std::vector<int64_t>{3, 20}));
  const auto expected = parse_numbers(flowlab::testing::run_python(
      "import numpy as np, ot\n"
      "print('%.17g' % " + pot_sliced(x, y_same, theta, 2) + ")\n"
      "print('%.17g' % " + pot_sliced(x, y_other, theta, 2) + ")\n"
      "print('%.17g' % " + pot_sliced(x, y_other, theta, 1) + ")\n"));
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_NEAR(sliced_wasserstein(x, y_same, theta), expected[0], 1e-10);
  EXPECT_NEAR(sliced_wasserstein(x, y_other, theta), expected[1], 1e-10);
  EXPECT_NEAR(sliced_wasserstein(x, y_other, theta, 1.0), expected[2], 1e-10);
  // Swapping the clouds gives the same distance.
  EXPECT_NEAR(sliced_wasserstein(y_other, x, theta), expected[1], 1e-10);
}

TEST(SlicedWasserstein, UnequalSizesByHand) {
  // x = {0, 1}, y = {0, 0.5, 2}: W1 = 1/12 + 1/12 + 1/3 = 1/2 (integral of |F - G|),
  // W2^2 = (1/6)(1/4) + (1/6)(1/4) + (1/3)(1) = 5/12 on the merged quantile grid.
  const torch::Tensor x = torch::tensor({0.0, 1.0}, torch::kFloat64).unsqueeze(1);
  const torch::Tensor y = torch::tensor({2.0, 0.0, 0.5}, torch::kFloat64).unsqueeze(1);
  EXPECT_NEAR(wasserstein_1d_pow(x, y, 1.0).item<double>(), 0.5, 1e-15);
  EXPECT_NEAR(wasserstein_1d_pow(x, y, 2.0).item<double>(), 5.0 / 12.0, 1e-15);
  // Equal sizes: sorted values are matched.
  const torch::Tensor a = torch::tensor({3.0, 1.0, 2.0}, torch::kFloat64).unsqueeze(1);
  const torch::Tensor b = torch::tensor({0.0, 4.0, 2.0}, torch::kFloat64).unsqueeze(1);
  EXPECT_NEAR(wasserstein_1d_pow(a, b, 2.0).item<double>(), (1.0 + 0.0 + 1.0) / 3.0, 1e-15);
}

TEST(SlicedWasserstein, RandomDirectionsAreUnitAndReproducible) {
  at::Generator first = at::detail::createCPUGenerator(5);
  at::Generator second = at::detail::createCPUGenerator(5);
  const torch::Tensor a = random_unit_directions(4, 100, first);
  const torch::Tensor b = random_unit_directions(4, 100, second);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_TRUE(torch::allclose(a.norm(2, {0}), torch::ones({100}, torch::kFloat64), 0, 1e-14));
  // Roughly isotropic: the mean direction is near 0.
  EXPECT_LT(a.mean(1).abs().max().item<double>(), 0.2);
}

TEST(SlicedWasserstein, ShiftedGaussiansMatchTheClosedForm) {
  // For N(0, I) and N(m, I) every projection is a 1-D shift by theta.m, so
  // SW2^2 = E[(theta.m)^2] = |m|^2 / d = 2.5 for m = (2, 1), d = 2.
  // Error budget (standard deviations): 1000 random directions give
  // |m|^2 sqrt(1/8) / sqrt(1000) = 0.056; 10000 samples per cloud shift the
  // means by about |m| sqrt(2 / 10000) = 0.032. Tolerance 0.25 is ~4 sigma.
  at::Generator gen = at::detail::createCPUGenerator(22);
  const torch::Tensor x = torch::randn({10000, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({10000, 2}, gen, torch::kFloat64) + torch::tensor({2.0, 1.0}, torch::kFloat64);
  const double sw = sliced_wasserstein(x, y, 1000, gen);
  EXPECT_NEAR(sw * sw, 2.5, 0.25);
  // Same distribution: only sampling noise.
  const torch::Tensor z = torch::randn({10000, 2}, gen, torch::kFloat64);
  EXPECT_LT(sliced_wasserstein(x, z, 200, gen), 0.05);
}

TEST(SlicedWasserstein, RejectsBadArguments) {
  at::Generator gen = at::detail::createCPUGenerator(1);
  EXPECT_THROW(sliced_wasserstein(torch::zeros({4, 3}), torch::zeros({4, 2}), 10, gen), c10::Error);
  EXPECT_THROW(sliced_wasserstein(torch::zeros({4, 3}), torch::zeros({4, 3}), 0, gen), c10::Error);
  EXPECT_THROW(sliced_wasserstein(torch::zeros({4, 3}), torch::zeros({4, 3}), torch::ones({2, 5})), c10::Error);
}

TEST(SlicedWasserstein, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::Generator gen = at::detail::createCPUGenerator(23);
  const torch::Tensor x = torch::randn({500, 3}, gen);
  const torch::Tensor y = torch::randn({300, 3}, gen) + 0.3;
  const torch::Tensor theta = random_unit_directions(3, 64, gen);
  EXPECT_NEAR(sliced_wasserstein(x.cuda(), y.cuda(), theta), sliced_wasserstein(x, y, theta), 1e-9);
  // A CPU generator still drives projections for CUDA inputs.
  at::Generator first = at::detail::createCPUGenerator(9);
  at::Generator second = at::detail::createCPUGenerator(9);
  EXPECT_NEAR(sliced_wasserstein(x.cuda(), y.cuda(), 64, first), sliced_wasserstein(x, y, 64, second), 1e-9);
}

}  // namespace
}  // namespace flowlab::ot
