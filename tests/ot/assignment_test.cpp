#include "flowlab/ot/assignment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::ot {
namespace {

using testing::numpy_array;
using testing::parse_numbers;

double assignment_cost(const torch::Tensor& c, const torch::Tensor& columns) {
  return c.gather(1, columns.unsqueeze(1)).sum().item<double>();
}

TEST(OptimalAssignment, MatchesBruteForce) {
  at::Generator gen = at::detail::createCPUGenerator(1);
  for (int trial = 0; trial < 20; ++trial) {
    const torch::Tensor c = torch::rand({7, 7}, gen, torch::kFloat64);
    std::vector<int64_t> perm(7);
    std::iota(perm.begin(), perm.end(), 0);
    double best = 1e300;
    do {
      double total = 0;
      for (int64_t i = 0; i < 7; ++i) total += c[i][perm[i]].item<double>();
      best = std::min(best, total);
    } while (std::next_permutation(perm.begin(), perm.end()));
    const torch::Tensor columns = optimal_assignment(c);
    EXPECT_NEAR(assignment_cost(c, columns), best, 1e-12);
    EXPECT_EQ(std::get<0>(at::_unique(columns)).numel(), 7);  // a permutation
  }
}

TEST(OptimalAssignment, MatchesScipyAndPotIncludingRectangularAndBatched) {
  at::Generator gen = at::detail::createCPUGenerator(2);
  const torch::Tensor square = torch::randn({60, 60}, gen, torch::kFloat64);
  const torch::Tensor wide = torch::randn({30, 45}, gen, torch::kFloat64);
  const torch::Tensor x = torch::randn({40, 3}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({40, 3}, gen, torch::kFloat64) + 1;
  const auto oracle = parse_numbers(flowlab::testing::run_python(
      "import numpy as np, ot\nfrom scipy.optimize import linear_sum_assignment as lsa\n"
      "for c in [" + numpy_array(square) + ", " + numpy_array(wide) + "]:\n"
      "    r, k = lsa(c)\n    print('%.17g' % c[r, k].sum())\n"
      "x = " + numpy_array(x) + "\ny = " + numpy_array(y) + "\n"
      "print('%.17g' % ot.emd2(np.ones(40) / 40, np.ones(40) / 40, ot.dist(x, y)))\n"));
  ASSERT_EQ(oracle.size(), 3u);
  EXPECT_NEAR(assignment_cost(square, optimal_assignment(square)), oracle[0], 1e-10);
  const torch::Tensor wide_columns = optimal_assignment(wide);
  EXPECT_NEAR(assignment_cost(wide, wide_columns), oracle[1], 1e-10);
  EXPECT_EQ(std::get<0>(at::_unique(wide_columns)).numel(), 30);
  EXPECT_NEAR(exact_transport(x, y).cost.item<double>(), oracle[2], 1e-10);
  // A batch solves each problem on its own.
  const torch::Tensor batch = optimal_assignment(torch::stack({square, square.flip(0)}));
  EXPECT_TRUE(torch::equal(batch[0], optimal_assignment(square)));
  EXPECT_NEAR(assignment_cost(square.flip(0), batch[1]), oracle[0], 1e-10);
}

TEST(OptimalAssignment, OneDimensionalSquaredCostMatchesSortedOrder) {
  // In 1-D a convex cost is minimised by matching sorted values (W2^2 = mean of squared gaps).
  at::Generator gen = at::detail::createCPUGenerator(3);
  const torch::Tensor x = torch::randn({100, 1}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({100, 1}, gen, torch::kFloat64) * 3;
  const double sorted = (std::get<0>(x.flatten().sort()) - std::get<0>(y.flatten().sort())).pow(2).mean().item<double>();
  EXPECT_NEAR(exact_transport(x, y).cost.item<double>(), sorted, 1e-12);
  EXPECT_NEAR(exact_transport(x, x.flip(0)).cost.item<double>(), 0.0, 1e-15);
}

TEST(OptimalAssignment, RejectsBadInput) {
  EXPECT_THROW(optimal_assignment(torch::rand({4, 3})), c10::Error);
  EXPECT_THROW(optimal_assignment(torch::full({2, 2}, std::numeric_limits<double>::infinity())), c10::Error);
  EXPECT_THROW(exact_transport(torch::rand({4, 2}), torch::rand({5, 2})), c10::Error);
}

}  // namespace
}  // namespace flowlab::ot
