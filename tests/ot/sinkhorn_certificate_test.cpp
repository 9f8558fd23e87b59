// The certified value bound of a Sinkhorn run: OT_eps lies between the dual value of the
// potentials and the primal value of the rounded plan.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/ot/sinkhorn.h"

namespace flowlab::ot {
namespace {

double scalar(const torch::Tensor& t) { return t.item<double>(); }

struct WeightedProblem {
  torch::Tensor x, y, a, b;
};

WeightedProblem weighted_problem(uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  WeightedProblem p;
  p.x = torch::randn({40, 3}, gen, torch::kFloat64);
  p.y = torch::randn({30, 3}, gen, torch::kFloat64) * 0.7 + 0.8;
  p.a = torch::softmax(torch::randn({40}, gen, torch::kFloat64), 0);
  p.b = torch::softmax(torch::randn({30}, gen, torch::kFloat64), 0);
  return p;
}

SinkhornOptions truncated(double eps, int64_t iterations) {
  SinkhornOptions o;
  o.eps = eps;
  o.eps_scaling = 1.0;  // plain Sinkhorn from zero potentials: far from converged after a few updates
  o.relaxation = 1.0;
  o.tolerance = 1e-14;
  o.max_iterations = iterations;
  return o;
}

SinkhornResult optimum(const WeightedProblem& p, double eps) {
  SinkhornOptions o;
  o.eps = eps;
  o.tolerance = 1e-13;
  o.max_iterations = 200000;
  const SinkhornResult r = sinkhorn(p.x, p.y, p.a, p.b, o);
  EXPECT_TRUE(r.report.converged) << r.report.summary();
  return r;
}

TEST(SinkhornCertificate, BoundsTheDistanceToTheOptimumAndShrinksWithIt) {
  const WeightedProblem p = weighted_problem(3);
  const double eps = 0.05;
  const SinkhornResult best = optimum(p, eps);
  const double cost_range = scalar(cost_matrix(p.x, p.y, GroundCost::squared_euclidean).max());
  double previous = std::numeric_limits<double>::infinity();
  for (const int64_t iterations : {3, 10, 30, 100, 300, 1000}) {
    const SinkhornResult r = sinkhorn(p.x, p.y, p.a, p.b, truncated(eps, iterations));
    ASSERT_FALSE(r.report.converged) << iterations;
    const double bound = r.report.value_error_bound;
    ASSERT_TRUE(std::isfinite(bound)) << r.report.summary();
    const double kl_error = std::abs(scalar(r.kl_value) - scalar(best.kl_value));
    const double entropy_error = std::abs(scalar(r.entropy_value) - scalar(best.entropy_value));
    EXPECT_LE(kl_error, bound) << iterations;
    EXPECT_LE(entropy_error, bound) << iterations;
    // Not vacuous: of the order of the mass the rounding moves times the cost range (0.06-0.1 of it here).
    EXPECT_LE(bound, 0.5 * r.report.marginal_error * cost_range) << iterations;
    EXPECT_LT(bound, previous) << iterations;
    previous = bound;
  }
}

TEST(SinkhornCertificate, IsOneComputationForBlocksBatchesAndSelfProblems) {
  const WeightedProblem p = weighted_problem(5);
  const SinkhornResult whole = sinkhorn(p.x, p.y, p.a, p.b, truncated(0.1, 12));
  SinkhornOptions blocked = truncated(0.1, 12);
  blocked.block_columns = 7;
  const SinkhornResult by_blocks = sinkhorn(p.x, p.y, p.a, p.b, blocked);
  EXPECT_NEAR(by_blocks.report.value_error_bound, whole.report.value_error_bound,
              1e-9 * whole.report.value_error_bound);
  // A batch reports its worst problem.
  const WeightedProblem q = weighted_problem(6);
  const SinkhornResult other = sinkhorn(q.x, q.y, q.a, q.b, truncated(0.1, 12));
  const SinkhornResult batch = sinkhorn(torch::stack({p.x, q.x}), torch::stack({p.y, q.y}), torch::stack({p.a, q.a}),
                                        torch::stack({p.b, q.b}), truncated(0.1, 12));
  EXPECT_NEAR(batch.report.value_error_bound,
              std::max(whole.report.value_error_bound, other.report.value_error_bound),
              1e-9 * whole.report.value_error_bound);
  // A converged run computes it on request only; the self problem too.
  SinkhornOptions converged;
  converged.eps = 0.1;
  EXPECT_TRUE(std::isnan(sinkhorn(p.x, p.y, p.a, p.b, converged).report.value_error_bound));
  converged.certify = true;
  const SinkhornResult certified = sinkhorn(p.x, p.y, p.a, p.b, converged);
  const double best = scalar(optimum(p, 0.1).kl_value);
  EXPECT_LE(std::abs(scalar(certified.kl_value) - best), certified.report.value_error_bound);
  EXPECT_LT(certified.report.value_error_bound, 1e-5);
  const SinkhornResult self = sinkhorn_self(p.x, p.a, converged);
  EXPECT_TRUE(std::isfinite(self.report.value_error_bound));
  EXPECT_LT(self.report.value_error_bound, 1e-5);
}

TEST(SinkhornCertificate, AcceptsADivergenceWhoseValueItCertifies) {
  at::Generator gen = at::detail::createCPUGenerator(8);
  const torch::Tensor x = torch::randn({60, 4}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({50, 4}, gen, torch::kFloat64) * 0.8 + 0.5;
  SinkhornOptions o;
  o.eps = 0.05;
  o.tolerance = 1e-13;
  o.max_iterations = 200000;
  const SinkhornDivergence best = sinkhorn_divergence(x, y, {}, {}, o);
  ASSERT_TRUE(best.converged()) << best.summary();
  o.max_iterations = 25;
  const SinkhornDivergence cut = sinkhorn_divergence(x, y, {}, {}, o);
  ASSERT_FALSE(cut.converged());
  const double bound = cut.value_error_bound();
  ASSERT_TRUE(std::isfinite(bound)) << cut.summary();
  EXPECT_LE(std::abs(scalar(cut.value) - scalar(best.value)), bound);
  EXPECT_TRUE(cut.accepted(2 * bound / std::abs(scalar(cut.value))));
  EXPECT_FALSE(cut.accepted(0.5 * bound / std::abs(scalar(cut.value))));
  // The transport value <P, C> is not the optimised objective: no certificate, not accepted.
  const SinkhornDivergence transport = sinkhorn_divergence(x, y, {}, {}, o, SinkhornValue::transport);
  EXPECT_TRUE(std::isnan(transport.value_error_bound()));
  EXPECT_FALSE(transport.accepted(1.0));
}

}  // namespace
}  // namespace flowlab::ot
