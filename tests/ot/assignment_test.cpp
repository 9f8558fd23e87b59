#include "flowlab/ot/assignment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
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

// An independent reference: the shortest-augmenting-path Hungarian method
// (O(n^2 m), rows added one at a time with full slack scans) that
// optimal_assignment used before Jonker-Volgenant. The optimal cost of c [n, m].
double hungarian_reference_cost(const torch::Tensor& cost) {
  const torch::Tensor c = cost.to(torch::kFloat64).contiguous();
  const int64_t n = c.size(0), m = c.size(1);
  const double* a = c.data_ptr<double>();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0), slack(m + 1);
  std::vector<int64_t> row_of(m + 1, 0), previous(m + 1, 0);  // 1-based; column 0 is virtual
  std::vector<char> visited(m + 1);
  for (int64_t i = 1; i <= n; ++i) {
    row_of[0] = i;
    int64_t column = 0;
    std::fill(slack.begin(), slack.end(), inf);
    std::fill(visited.begin(), visited.end(), 0);
    do {
      visited[column] = 1;
      const int64_t row = row_of[column];
      double delta = inf;
      int64_t next = 0;
      for (int64_t j = 1; j <= m; ++j) {
        if (visited[j]) continue;
        const double reduced = a[(row - 1) * m + j - 1] - u[row] - v[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          previous[j] = column;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          next = j;
        }
      }
      for (int64_t j = 0; j <= m; ++j) {
        if (visited[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      column = next;
    } while (row_of[column] != 0);
    do {
      const int64_t before = previous[column];
      row_of[column] = row_of[before];
      column = before;
    } while (column != 0);
  }
  double total = 0;
  for (int64_t j = 1; j <= m; ++j) {
    if (row_of[j] != 0) total += a[(row_of[j] - 1) * m + j - 1];
  }
  return total;
}

// optimal_assignment(c) is an injective map of the n rows into the m columns whose
// cost is `optimum` (exactly when tolerance is 0).
void expect_optimal(const torch::Tensor& c, double optimum, double tolerance, const std::string& label) {
  SCOPED_TRACE(label);
  const torch::Tensor columns = optimal_assignment(c);
  ASSERT_EQ(columns.sizes(), torch::IntArrayRef({c.size(0)}));
  ASSERT_EQ(columns.scalar_type(), torch::kInt64);
  EXPECT_GE(columns.min().item<int64_t>(), 0);
  EXPECT_LT(columns.max().item<int64_t>(), c.size(1));
  EXPECT_EQ(std::get<0>(at::_unique(columns)).numel(), c.size(0));  // distinct columns
  if (tolerance == 0) {
    EXPECT_EQ(assignment_cost(c, columns), optimum);
  } else {
    EXPECT_NEAR(assignment_cost(c, columns), optimum, tolerance);
  }
}

void expect_matches_reference(const torch::Tensor& c, const std::string& label, bool exact = false) {
  const double reference = hungarian_reference_cost(c);
  expect_optimal(c, reference, exact ? 0.0 : 1e-9 * std::max(1.0, std::abs(reference)), label);
}

torch::Tensor squared_distances(const torch::Tensor& x, const torch::Tensor& y) {
  return (x.unsqueeze(1) - y.unsqueeze(0)).pow(2).sum(-1);
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

TEST(OptimalAssignment, MatchesBruteForceWithTiesAndRectangular) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  for (int trial = 0; trial < 20; ++trial) {
    // Integer costs in {0, 1, 2}: many ties. Rectangular 5 x 7 every other trial.
    const int64_t n = trial % 2 ? 5 : 7;
    const torch::Tensor c = torch::randint(0, 3, {n, 7}, gen, torch::kFloat64);
    std::vector<int64_t> perm(7);
    std::iota(perm.begin(), perm.end(), 0);
    double best = 1e300;
    do {  // the first n entries of every permutation of the 7 columns
      double total = 0;
      for (int64_t i = 0; i < n; ++i) total += c[i][perm[i]].item<double>();
      best = std::min(best, total);
    } while (std::next_permutation(perm.begin(), perm.end()));
    expect_optimal(c, best, 0.0, "trial " + std::to_string(trial));
  }
}

TEST(OptimalAssignment, MatchesHungarianReferenceAtMinibatchSizes) {
  at::Generator gen = at::detail::createCPUGenerator(12);
  for (const int64_t d : {2, 32}) {  // squared Euclidean between two clouds, as exact_ot builds it
    const torch::Tensor x = torch::randn({256, d}, gen, torch::kFloat64);
    const torch::Tensor y = torch::randn({256, d}, gen, torch::kFloat64) * 0.8 + 0.5;
    expect_matches_reference(squared_distances(x, y), "256 x 256 clouds, d = " + std::to_string(d));
  }
  expect_matches_reference(torch::rand({256, 256}, gen, torch::kFloat64), "256 x 256 uniform");
  expect_matches_reference(torch::randn({100, 300}, gen, torch::kFloat64), "100 x 300 normal (negative entries)");
  const torch::Tensor x = torch::randn({100, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({300, 2}, gen, torch::kFloat64) + 0.3;
  expect_matches_reference(squared_distances(x, y), "100 x 300 clouds");
  expect_matches_reference(torch::rand({255, 256}, gen, torch::kFloat64), "255 x 256 uniform");
  expect_matches_reference(torch::rand({2, 2}, gen, torch::kFloat64), "2 x 2");
  expect_matches_reference(torch::rand({2, 9}, gen, torch::kFloat64), "2 x 9");
}

TEST(OptimalAssignment, MatchesScipyAtMinibatchSizes) {
  at::Generator gen = at::detail::createCPUGenerator(13);
  const torch::Tensor x = torch::randn({256, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({256, 2}, gen, torch::kFloat64) * 0.8 + 0.5;
  const torch::Tensor square = squared_distances(x, y);
  const torch::Tensor wide = torch::rand({100, 300}, gen, torch::kFloat64);
  const auto oracle = parse_numbers(flowlab::testing::run_python(
      "import numpy as np\nfrom scipy.optimize import linear_sum_assignment as lsa\n"
      "for c in [" + numpy_array(square) + ", " + numpy_array(wide) + "]:\n"
      "    r, k = lsa(c)\n    print('%.17g' % c[r, k].sum())\n"));
  ASSERT_EQ(oracle.size(), 2u);
  expect_optimal(square, oracle[0], 1e-9 * oracle[0], "256 x 256 clouds");
  expect_optimal(wide, oracle[1], 1e-9 * oracle[1], "100 x 300 uniform");
}

TEST(OptimalAssignment, DegenerateCostsGiveOptimalPermutations) {
  at::Generator gen = at::detail::createCPUGenerator(14);
  expect_optimal(torch::full({256, 256}, 3.0, torch::kFloat64), 768.0, 0.0, "all equal");
  expect_optimal(torch::zeros({100, 300}, torch::kFloat64), 0.0, 0.0, "all zero, rectangular");
  expect_optimal(torch::full({1, 1}, -2.5, torch::kFloat64), -2.5, 0.0, "1 x 1");
  expect_optimal(torch::tensor({{4.0, 2.0, 7.0, 2.0, 9.0}}, torch::kFloat64), 2.0, 0.0, "1 x 5, tied minimum");
  const torch::Tensor single = torch::randn({1, 300}, gen, torch::kFloat64);
  expect_optimal(single, single.min().item<double>(), 0.0, "1 x 300");
  // Integer costs with many ties: every sum is exact, so the optimum must be hit exactly.
  expect_matches_reference(torch::randint(0, 2, {256, 256}, gen, torch::kFloat64), "256 x 256 in {0, 1}", true);
  expect_matches_reference(torch::randint(0, 5, {256, 256}, gen, torch::kFloat64), "256 x 256 in {0..4}", true);
  expect_matches_reference(torch::randint(-3, 4, {100, 300}, gen, torch::kFloat64), "100 x 300 in {-3..3}", true);
  // Duplicate rows (each of 128 rows twice, shuffled), duplicate columns, and both.
  const torch::Tensor half = torch::randint(0, 10, {128, 256}, gen, torch::kFloat64);
  const torch::Tensor rows = torch::cat({half, half}).index_select(0, torch::randperm(256, gen));
  expect_matches_reference(rows, "duplicate rows", true);
  expect_matches_reference(rows.t().contiguous(), "duplicate columns", true);
  const torch::Tensor x = torch::randn({64, 2}, gen, torch::kFloat64).repeat({4, 1});
  expect_matches_reference(squared_distances(x, x.flip(0) + 0.1), "duplicate points in both clouds");
  // The same point cloud on both sides: the identity-like matching costs 0.
  const torch::Tensor z = torch::randn({256, 3}, gen, torch::kFloat64);
  expect_optimal(squared_distances(z, z.index_select(0, torch::randperm(256, gen))), 0.0, 0.0, "a permuted copy");
  // One-dimensional points on a grid: many exactly equal sums of squared gaps.
  const torch::Tensor grid = torch::arange(256, torch::kFloat64).unsqueeze(1);
  expect_matches_reference(squared_distances(grid, grid.flip(0) + 3), "1-D grid", true);
}

TEST(OptimalAssignment, LargeCostMagnitudes) {
  at::Generator gen = at::detail::createCPUGenerator(15);
  // Integers below 2^40: every price and sum the solver forms is an exact integer.
  expect_matches_reference(torch::randint(0, int64_t{1} << 40, {256, 256}, gen, torch::kFloat64), "below 2^40", true);
  expect_matches_reference(torch::randint(0, int64_t{1} << 40, {100, 300}, gen, torch::kFloat64),
                           "below 2^40, rectangular", true);
  // A huge offset with small integer differences (exact in float64).
  expect_matches_reference(1e12 + torch::randint(0, 7, {256, 256}, gen, torch::kFloat64), "1e12 + {0..6}", true);
  // Power-of-two scalings are exact, so the optimum scales with them, up to costs near DBL_MAX
  // (which the solver rescales internally, lest prices overflow).
  const torch::Tensor c = torch::rand({128, 128}, gen, torch::kFloat64) - 0.5;
  const double base = assignment_cost(c, optimal_assignment(c));
  EXPECT_NEAR(base, hungarian_reference_cost(c), 1e-12);
  for (const int exponent : {-600, 300, 600, 1015}) {  // 2^1015: |c| up to 2^1014
    const torch::Tensor scaled = c * std::ldexp(1.0, exponent);
    expect_optimal(scaled, std::ldexp(base, exponent), 0.0, "scaled by 2^" + std::to_string(exponent));
  }
}

TEST(OptimalAssignment, BatchesSolveEachProblem) {
  at::Generator gen = at::detail::createCPUGenerator(16);
  const torch::Tensor batch = torch::randint(0, 4, {3, 64, 80}, gen, torch::kFloat64);
  const torch::Tensor columns = optimal_assignment(batch);
  ASSERT_EQ(columns.sizes(), torch::IntArrayRef({3, 64}));
  for (int64_t b = 0; b < 3; ++b) {
    EXPECT_TRUE(torch::equal(columns[b], optimal_assignment(batch[b])));
    EXPECT_EQ(assignment_cost(batch[b], columns[b]), hungarian_reference_cost(batch[b]));
  }
  EXPECT_EQ(optimal_assignment(torch::zeros({0, 3, 4})).sizes(), torch::IntArrayRef({0, 3}));
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
  EXPECT_THROW(optimal_assignment(torch::tensor({{1.0, -std::numeric_limits<double>::infinity()}, {0.0, 1.0}})), c10::Error);
  EXPECT_THROW(optimal_assignment(torch::tensor({{1.0, std::nan("")}, {0.0, 1.0}})), c10::Error);
  EXPECT_THROW(optimal_assignment(torch::rand({2, 0, 3})), c10::Error);
  EXPECT_THROW(optimal_assignment(torch::rand({5})), c10::Error);
  EXPECT_THROW(exact_transport(torch::rand({4, 2}), torch::rand({5, 2})), c10::Error);
}

}  // namespace
}  // namespace flowlab::ot
