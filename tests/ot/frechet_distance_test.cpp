// The Fréchet distance of fitted Gaussians (FID's formula): closed forms for given statistics,
// SciPy's sqrtm formula (pytorch-fid's) on the same features, zero for identical sets, growth with
// added noise, and the metric registry's `frechet`.
#include "flowlab/ot/frechet_distance.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "flowlab/core/error.h"
#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::ot {
namespace {

using testing::numpy_array;
using testing::parse_numbers;

FrechetStatistics given(const torch::Tensor& mean, const torch::Tensor& covariance) {
  return FrechetStatistics{mean.to(torch::kFloat64), covariance.to(torch::kFloat64), 0};
}

TEST(FrechetDistance, DiagonalGaussiansHaveTheClosedForm) {
  // Commuting covariances: |mu_a - mu_b|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
  const torch::Tensor var_a = torch::tensor({1.0, 4.0, 0.25, 9.0}, torch::kFloat64);
  const torch::Tensor var_b = torch::tensor({2.0, 1.0, 0.25, 0.5}, torch::kFloat64);
  const torch::Tensor mu_a = torch::tensor({0.0, 1.0, -2.0, 0.5}, torch::kFloat64);
  const torch::Tensor mu_b = torch::tensor({1.0, 1.0, 0.0, 0.0}, torch::kFloat64);
  const double expected = (mu_a - mu_b).square().sum().item<double>() +
                          (var_a.sqrt() - var_b.sqrt()).square().sum().item<double>();
  ASSERT_GT(expected, 1.0);
  EXPECT_NEAR(frechet_distance(given(mu_a, torch::diag(var_a)), given(mu_b, torch::diag(var_b))), expected, 1e-12);
}

TEST(FrechetDistance, NonCommutingTwoByTwoCovariancesHaveTheClosedForm) {
  // For 2 x 2 SPD A and B, A B has positive eigenvalues l1, l2 and
  // tr (A B)^{1/2} = sqrt(l1) + sqrt(l2) = sqrt(tr(A B) + 2 sqrt(det A det B)).
  const torch::Tensor a = torch::tensor({{2.0, 0.8}, {0.8, 1.0}}, torch::kFloat64);
  const torch::Tensor b = torch::tensor({{0.5, -0.3}, {-0.3, 3.0}}, torch::kFloat64);
  ASSERT_GT((torch::matmul(a, b) - torch::matmul(b, a)).abs().max().item<double>(), 0.1);  // they do not commute
  const double trace_root = std::sqrt(torch::matmul(a, b).trace().item<double>() +
                                      2.0 * std::sqrt(torch::det(a).item<double>() * torch::det(b).item<double>()));
  const torch::Tensor mu_a = torch::tensor({0.3, -0.7}, torch::kFloat64);
  const torch::Tensor mu_b = torch::tensor({-1.0, 0.2}, torch::kFloat64);
  const double expected = (mu_a - mu_b).square().sum().item<double>() + a.trace().item<double>() +
                          b.trace().item<double>() - 2.0 * trace_root;
  EXPECT_NEAR(frechet_distance(given(mu_a, a), given(mu_b, b)), expected, 1e-12);
  // Symmetric in its arguments, as a squared W2 distance is.
  EXPECT_NEAR(frechet_distance(given(mu_b, b), given(mu_a, a)), expected, 1e-12);
}

TEST(FrechetDistance, StatisticsAreNumpysMeanAndUnbiasedCovariance) {
  at::Generator gen = at::detail::createCPUGenerator(21);
  const torch::Tensor x = torch::randn({50, 2, 3}, gen, torch::kFloat64);  // trailing dimensions flattened
  const FrechetStatistics s = frechet_statistics(x.to(torch::kFloat32));
  EXPECT_EQ(s.count, 50);
  EXPECT_EQ(s.mean.scalar_type(), torch::kFloat64);
  const auto expected = parse_numbers(flowlab::testing::run_python(
      "import numpy as np\nx = " + numpy_array(x.reshape({50, 6})) +
      "\nfor v in np.concatenate([x.mean(0), np.cov(x, rowvar=False).ravel()]): print('%.17g' % v)\n"));
  ASSERT_EQ(expected.size(), 6u + 36u);
  const torch::Tensor reference = torch::tensor(expected, torch::kFloat64);
  // The input was float32: its values, not x's, were averaged.
  EXPECT_TRUE(torch::allclose(torch::cat({s.mean, s.covariance.flatten()}), reference, 1e-6, 1e-6));
  EXPECT_THROW(frechet_statistics(x.slice(0, 0, 1)), Error);  // one sample has no covariance
}

TEST(FrechetDistance, EqualsScipySqrtmFormulaOnTheSameFeatures) {
  // pytorch-fid's calculate_frechet_distance: sqrtm of the product, real part of its trace.
  at::Generator gen = at::detail::createCPUGenerator(22);
  const int64_t d = 12;
  const torch::Tensor mix = torch::randn({d, d}, gen, torch::kFloat64) / std::sqrt(static_cast<double>(d));
  const torch::Tensor x = torch::randn({300, d}, gen, torch::kFloat64);
  const torch::Tensor y = torch::matmul(torch::randn({250, d}, gen, torch::kFloat64), mix) * 1.5 + 0.2;
  const auto expected = parse_numbers(flowlab::testing::run_python(
      "import numpy as np\nfrom scipy import linalg\n"
      "x = " + numpy_array(x) + "\ny = " + numpy_array(y) + "\n"
      "m1, m2 = x.mean(0), y.mean(0)\n"
      "s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)\n"
      "covmean = linalg.sqrtm(s1.dot(s2))\n"
      "covmean = np.real(covmean)\n"
      "d = m1 - m2\n"
      "print('%.17g' % (d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)))\n"));
  ASSERT_EQ(expected.size(), 1u);
  ASSERT_GT(expected[0], 1.0);
  EXPECT_NEAR(frechet_distance(x, y), expected[0], 1e-9 * expected[0]);
  EXPECT_NEAR(frechet_distance(y, x), expected[0], 1e-9 * expected[0]);
  // Features of images [N, C, H, W] are flattened.
  EXPECT_NEAR(frechet_distance(x.reshape({300, 3, 2, 2}), y.reshape({250, 3, 2, 2})), expected[0],
              1e-9 * expected[0]);
}

TEST(FrechetDistance, IsZeroForIdenticalSetsAndGrowsWithAddedNoise) {
  at::Generator gen = at::detail::createCPUGenerator(23);
  const int64_t d = 20;
  const torch::Tensor x = torch::matmul(torch::randn({400, d}, gen, torch::kFloat64),
                                        torch::randn({d, d}, gen, torch::kFloat64));
  const double scale = frechet_statistics(x).covariance.trace().item<double>();
  // Rank-deficient too: 10 points in 20 dimensions (a singular covariance).
  EXPECT_NEAR(frechet_distance(x, x), 0.0, 1e-10 * scale);
  EXPECT_NEAR(frechet_distance(x.slice(0, 0, 10), x.slice(0, 0, 10)), 0.0, 1e-8 * scale);
  const torch::Tensor noise = torch::randn({400, d}, gen, torch::kFloat64);
  double previous = 0.0;
  for (double sigma : {0.1, 0.3, 1.0, 3.0}) {
    const double value = frechet_distance(x, x + sigma * noise);
    EXPECT_GT(value, previous) << "sigma " << sigma;
    previous = value;
  }
  // White points plus independent noise of variance s^2: N(0, I) vs N(0, (1 + s^2) I), whose
  // distance is d (sqrt(1 + s^2) - 1)^2; 4000 points estimate it within a few percent.
  const torch::Tensor white = torch::randn({4000, 5}, gen, torch::kFloat64);
  const double expected = 5.0 * std::pow(std::sqrt(2.0) - 1.0, 2);
  EXPECT_NEAR(frechet_distance(white, white + torch::randn({4000, 5}, gen, torch::kFloat64)), expected,
              0.15 * expected);
}

TEST(FrechetDistance, NotFiniteStatisticsGiveNan) {
  const torch::Tensor mean = torch::zeros({2}, torch::kFloat64);
  const torch::Tensor bad = torch::tensor({std::numeric_limits<double>::quiet_NaN(), 0.0}, torch::kFloat64);
  EXPECT_TRUE(std::isnan(frechet_distance(given(mean, torch::eye(2)), given(bad, torch::eye(2)))));
  EXPECT_THROW(frechet_distance(given(mean, torch::eye(2)), given(torch::zeros({3}), torch::eye(3))), c10::Error);
}

TEST(FrechetDistance, RegistryMetricMeasuresTheSameValue) {
  testing::register_metrics_once();
  at::Generator gen = at::detail::createCPUGenerator(24);
  const torch::Tensor x = torch::randn({200, 5}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({150, 5}, gen, torch::kFloat64) * 0.7 + 0.4;
  config::Node node = config::Node::parse("{type: frechet}");
  const auto metric = metric_registry().create(node);
  const Measurement m = metric->measure(x, y, gen);
  // The same formula; threaded reductions may round differently from one call to the next.
  EXPECT_NEAR(m.value, frechet_distance(x, y), 1e-12 * m.value);
  EXPECT_TRUE(m.accepted);
}

}  // namespace
}  // namespace flowlab::ot
