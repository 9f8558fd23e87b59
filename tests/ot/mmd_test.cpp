#include "flowlab/ot/mmd.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::ot {
namespace {

using testing::numpy_array;
using testing::parse_numbers;

// Independent oracle: kernel matrices in full, the diagonal removed by masking,
// the median from scipy's pdist (pairs i < j).
const char* kNumpyMmd =
    "import numpy as np\n"
    "from scipy.spatial.distance import pdist, cdist\n"
    "def mmd(x, y, h, biased):\n"
    "    if h <= 0: h = np.median(pdist(np.vstack([x, y])))\n"
    "    k = lambda a, b: np.exp(-cdist(a, b, 'sqeuclidean') / (2 * h * h))\n"
    "    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)\n"
    "    n, m = len(x), len(y)\n"
    "    if biased: return kxx.mean() + kyy.mean() - 2 * kxy.mean()\n"
    "    off = lambda K: K[~np.eye(len(K), dtype=bool)].mean()\n"
    "    return off(kxx) + off(kyy) - 2 * kxy.mean()\n";

TEST(Mmd, MatchesNumpyBiasedAndUnbiasedWithGivenAndMedianBandwidth) {
  at::Generator gen = at::detail::createCPUGenerator(31);
  const torch::Tensor x = torch::randn({120, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({90, 2}, gen, torch::kFloat64) * 1.4 + 0.3;
  const auto expected = parse_numbers(flowlab::testing::run_python(
      std::string(kNumpyMmd) + "x = " + numpy_array(x) + "\ny = " + numpy_array(y) +
      "\nfor h in [0.7, 0.0]:\n"
      "    for biased in [False, True]:\n"
      "        print('%.17g' % mmd(x, y, h, biased))\n"
      "print('%.17g' % np.median(pdist(np.vstack([x, y]))))\n"));
  ASSERT_EQ(expected.size(), 5u);
  EXPECT_NEAR(mmd(x, y, 0.7, false), expected[0], 1e-12);
  EXPECT_NEAR(mmd(x, y, 0.7, true), expected[1], 1e-12);
  EXPECT_NEAR(mmd(x, y, 0.0, false), expected[2], 1e-12);
  EXPECT_NEAR(mmd(x, y, 0.0, true), expected[3], 1e-12);
  EXPECT_NEAR(mmd(x, y), expected[2], 1e-12);  // defaults: median, unbiased
  EXPECT_NEAR(median_bandwidth(x, y), expected[4], 1e-12);
  EXPECT_GT(expected[1], expected[0]);  // the biased estimate adds the diagonal
}

TEST(Mmd, MatchesNumpyForImagesInHighDimension) {
  at::Generator gen = at::detail::createCPUGenerator(32);
  const torch::Tensor x = torch::rand({50, 1, 6, 6}, gen, torch::kFloat64);
  const torch::Tensor y = torch::rand({40, 1, 6, 6}, gen, torch::kFloat64).square();
  const auto expected = parse_numbers(flowlab::testing::run_python(
      std::string(kNumpyMmd) + "x = " + numpy_array(x) + ".reshape(50, -1)\ny = " + numpy_array(y) +
      ".reshape(40, -1)\nprint('%.17g %.17g' % (mmd(x, y, 0.0, False), mmd(x, y, 2.0, True)))\n"));
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_NEAR(mmd(x, y, 0.0, false), expected[0], 1e-10);
  EXPECT_NEAR(mmd(x, y, 2.0, true), expected[1], 1e-10);
}

TEST(Mmd, NearZeroForOneDistributionAndMatchesTheGaussianClosedForm) {
  at::Generator gen = at::detail::createCPUGenerator(33);
  const int64_t n = 2000;
  const torch::Tensor x = torch::randn({n, 2}, gen, torch::kFloat64);
  const torch::Tensor same = torch::randn({n, 2}, gen, torch::kFloat64);
  const torch::Tensor shifted = torch::randn({n, 2}, gen, torch::kFloat64) + torch::tensor({1.0, 0.0}, torch::kFloat64);
  // Unbiased: mean zero under the null; its spread here is 3e-4 (20 numpy
  // repetitions), so 2e-3 is over 6 sigma.
  EXPECT_LT(std::abs(mmd(x, same, 1.0)), 2e-3);
  EXPECT_LT(std::abs(mmd(x, same)), 2e-3);
  // N(0, I) vs N(m, I) in d dims with bandwidth h:
  // MMD^2 = 2 (h^2 / (h^2 + 2))^(d/2) (1 - exp(-|m|^2 / (2 (h^2 + 2)))) = 0.10234 for h = 1.
  // The estimate's spread at n = 2000 is 0.006; tolerance 0.025 is ~4 sigma.
  const double closed_form = 2.0 / 3.0 * (1.0 - std::exp(-1.0 / 6.0));
  EXPECT_NEAR(mmd(x, shifted, 1.0), closed_form, 0.025);
  EXPECT_GT(mmd(x, shifted), 0.05);
}

TEST(Mmd, MedianHeuristicSubsamplesLargeSets) {
  // Beyond 2048 pooled points the median comes from an evenly spaced subset;
  // for 1-D N(0, 1) the median |X - X'| is 0.954 (sqrt(2) * 0.6745).
  at::Generator gen = at::detail::createCPUGenerator(34);
  const double h = median_bandwidth(torch::randn({5000, 1}, gen), torch::randn({3000, 1}, gen));
  EXPECT_NEAR(h, std::sqrt(2.0) * 0.67449, 0.03);
  EXPECT_EQ(median_bandwidth(torch::ones({3, 2}), torch::ones({2, 2})), 1.0);  // all distances zero
}

TEST(Mmd, RejectsTooFewSamplesForTheUnbiasedEstimate) {
  EXPECT_THROW(mmd(torch::zeros({1, 2}), torch::ones({5, 2}), 1.0, false), c10::Error);
  EXPECT_NO_THROW(mmd(torch::zeros({1, 2}), torch::ones({5, 2}), 1.0, true));
  EXPECT_THROW(mmd(torch::zeros({3, 2}), torch::ones({5, 2}), NAN), c10::Error);
}

TEST(Mmd, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::Generator gen = at::detail::createCPUGenerator(35);
  const torch::Tensor x = torch::randn({500, 3}, gen);
  const torch::Tensor y = torch::randn({400, 3}, gen) + 0.3;
  EXPECT_NEAR(mmd(x.cuda(), y.cuda()), mmd(x, y), 1e-10);
  EXPECT_NEAR(mmd(x.cuda(), y.cuda(), 0.5, true), mmd(x, y, 0.5, true), 1e-10);
}

}  // namespace
}  // namespace flowlab::ot
