// Improved precision and recall (k-NN manifolds): a hand-computed case, a brute-force NumPy
// count on random clouds, the limits (identical sets, far-apart sets) and the registry metrics'
// direction (x: the model's samples, y: the data).
#include "flowlab/ot/precision_recall.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/ot/metric.h"
#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::ot {
namespace {

using testing::numpy_array;
using testing::parse_numbers;

TEST(PrecisionRecall, HandComputedBallsOnALine) {
  // Reference {0, 1, 2, 3, 10}, k = 1: radii 1, 1, 1, 1 and 7 (10's nearest other point is 3).
  const torch::Tensor reference = torch::tensor({0.0, 1.0, 2.0, 3.0, 10.0}, torch::kFloat64).unsqueeze(1);
  // 0.5: in 0's ball; 5.0: in 10's ball (5 <= 7); -1.5: 1.5 from 0 (radius 1), out; 17.5: 7.5
  // from 10, out; 3.9: 0.9 from 3, in; 16.5: 6.5 from 10, in.
  const torch::Tensor queries = torch::tensor({0.5, 5.0, -1.5, 17.5, 3.9, 16.5}, torch::kFloat64).unsqueeze(1);
  EXPECT_EQ(count_in_manifold(queries, reference, 1), 4);
  // k = 2: radii 2, 1, 1, 2, 8 (10's second neighbour is 2): now 17.5 is in, -1.5 is too.
  EXPECT_EQ(count_in_manifold(queries, reference, 2), 6);
  // Chunking changes nothing.
  EXPECT_EQ(count_in_manifold(queries, reference, 1, /*chunk_rows=*/2), 4);
  // A duplicate reference point is a neighbour at distance 0: radius 0, only the point itself.
  // Reference {0, 0, 5, 5.5}: radii 0, 0, 0.5, 0.5, so 0.1 lies in no ball.
  const torch::Tensor doubled = torch::tensor({0.0, 0.0, 5.0, 5.5}, torch::kFloat64).unsqueeze(1);
  EXPECT_EQ(count_in_manifold(torch::tensor({0.0, 0.1}, torch::kFloat64).unsqueeze(1), doubled, 1), 1);
}

TEST(PrecisionRecall, MatchesABruteForceNumpyCount) {
  at::Generator gen = at::detail::createCPUGenerator(31);
  const torch::Tensor data = torch::randn({300, 5}, gen, torch::kFloat64);
  const torch::Tensor samples = torch::randn({250, 5}, gen, torch::kFloat64) * 1.3 + 0.4;
  const auto expected = parse_numbers(flowlab::testing::run_python(
      "import numpy as np\n"
      "from scipy.spatial.distance import cdist\n"
      "def inside(q, r, k):\n"
      "    dr = cdist(r, r)\n"
      "    np.fill_diagonal(dr, np.inf)\n"
      "    radius = np.sort(dr, axis=1)[:, k - 1]\n"
      "    return int((cdist(q, r) <= radius[None, :]).any(1).sum())\n"
      "x = " + numpy_array(samples) + "\ny = " + numpy_array(data) + "\n"
      "for k in (1, 3, 5): print(inside(x, y, k), inside(y, x, k))\n"));
  ASSERT_EQ(expected.size(), 6u);
  const int64_t ks[] = {1, 3, 5};
  for (int i = 0; i < 3; ++i) {
    const PrecisionRecall pr = precision_recall(samples, data, ks[i], /*chunk_rows=*/64);
    EXPECT_EQ(pr.precise_samples, static_cast<int64_t>(expected[2 * i])) << "k " << ks[i];
    EXPECT_EQ(pr.recalled_data, static_cast<int64_t>(expected[2 * i + 1])) << "k " << ks[i];
    EXPECT_DOUBLE_EQ(pr.precision, expected[2 * i] / 250.0);
    EXPECT_DOUBLE_EQ(pr.recall, expected[2 * i + 1] / 300.0);
  }
  // Neither trivially 0 nor 1: the shifted, wider cloud covers part of the data and vice versa.
  const PrecisionRecall pr = precision_recall(samples, data);
  EXPECT_GT(pr.precision, 0.3);
  EXPECT_LT(pr.precision, 0.99);
  EXPECT_GT(pr.recall, 0.3);
}

TEST(PrecisionRecall, IdenticalSetsGiveOneAndFarSetsZero) {
  at::Generator gen = at::detail::createCPUGenerator(32);
  const torch::Tensor x = torch::randn({100, 3, 2, 2}, gen);  // image-shaped, float32
  const PrecisionRecall same = precision_recall(x, x);
  EXPECT_DOUBLE_EQ(same.precision, 1.0);
  EXPECT_DOUBLE_EQ(same.recall, 1.0);
  const PrecisionRecall far = precision_recall(x + 100.0, x);
  EXPECT_DOUBLE_EQ(far.precision, 0.0);
  EXPECT_DOUBLE_EQ(far.recall, 0.0);
  // Mode collapse: samples all at one data point are precise but recall almost nothing.
  const torch::Tensor collapsed = x.slice(0, 0, 1).expand({100, 3, 2, 2}).contiguous();
  const PrecisionRecall mode = precision_recall(collapsed, x);
  EXPECT_DOUBLE_EQ(mode.precision, 1.0);
  EXPECT_LT(mode.recall, 0.05);
  EXPECT_THROW(count_in_manifold(x, x.slice(0, 0, 3), 3), Error);  // 3 points have no 3rd other neighbour
}

TEST(PrecisionRecall, RegistryMetricsReadSamplesThenData) {
  testing::register_metrics_once();
  at::Generator gen = at::detail::createCPUGenerator(33);
  const torch::Tensor data = torch::randn({200, 4}, gen, torch::kFloat64);
  // A model that covers a quarter of the data's spread: precise, poor recall.
  const torch::Tensor samples = torch::randn({200, 4}, gen, torch::kFloat64) * 0.25;
  const PrecisionRecall pr = precision_recall(samples, data, 3);
  ASSERT_GT(pr.precision, pr.recall + 0.3);
  config::Node precision_node = config::Node::parse("{type: precision}");
  config::Node recall_node = config::Node::parse("{type: recall, k: 3}");
  EXPECT_DOUBLE_EQ(metric_registry().create(precision_node)->measure(samples, data, gen).value, pr.precision);
  EXPECT_DOUBLE_EQ(metric_registry().create(recall_node)->measure(samples, data, gen).value, pr.recall);
  config::Node bad = config::Node::parse("{type: recall, k: 0}");
  EXPECT_THROW(metric_registry().create(bad), ConfigError);
}

}  // namespace
}  // namespace flowlab::ot
