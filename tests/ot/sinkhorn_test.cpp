#include "flowlab/ot/sinkhorn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::ot {
namespace {

using testing::numpy_array;
using testing::parse_numbers;

torch::Tensor column(std::vector<double> values) {
  return torch::tensor(values, torch::kFloat64).unsqueeze(1);
}

SinkhornOptions tight(double eps) {
  SinkhornOptions o;
  o.eps = eps;
  o.tolerance = 1e-12;
  o.max_iterations = 200000;
  return o;
}

double item(const torch::Tensor& t) { return t.item<double>(); }

TEST(Sinkhorn, TwoByTwoPlanIsHalfSigmoid) {
  // a = b = (1/2, 1/2), C = [[0, 1], [1, 0]]: P11 = sigmoid(1/eps) / 2, <P, C> = sigmoid(-1/eps).
  for (double eps : {1.0, 0.25}) {
    SinkhornOptions o = tight(eps);
    o.return_plan = true;
    const SinkhornResult r = sinkhorn(column({0, 1}), column({0, 1}), {}, {}, o);
    const double sigmoid = 1.0 / (1.0 + std::exp(-1.0 / eps));
    EXPECT_TRUE(r.report.converged) << r.report.summary();
    EXPECT_NEAR(item(r.plan[0][0]), 0.5 * sigmoid, 1e-12);
    EXPECT_NEAR(item(r.plan[0][1]), 0.5 * (1 - sigmoid), 1e-12);
    EXPECT_NEAR(item(r.transport_cost), 1 - sigmoid, 1e-12);
  }
  SinkhornOptions o = tight(1.0);
  o.return_plan = true;
  EXPECT_NEAR(item(sinkhorn(column({0, 1}), column({0, 1}), {}, {}, o).plan[0][0]), 0.365529289315, 1e-12);
}

TEST(Sinkhorn, DebiasedDivergenceOfATranslationIsTheSquaredShift) {
  // S(X, X + delta) = |delta|^2 for every eps, with the transport and the KL values.
  const torch::Tensor x = column({0, 1, 3});
  SinkhornOptions o = tight(0.5);
  o.tolerance = 1e-10;
  for (SinkhornValue value : {SinkhornValue::transport, SinkhornValue::kl, SinkhornValue::entropy}) {
    const SinkhornDivergence d = sinkhorn_divergence(x, x + 0.7, {}, {}, o, value);
    EXPECT_TRUE(d.converged()) << d.summary();
    EXPECT_NEAR(item(d.value), 0.49, 1e-9) << sinkhorn_value_name(value);
  }
  at::Generator gen = at::detail::createCPUGenerator(3);
  const torch::Tensor cloud = torch::randn({15, 2}, gen, torch::kFloat64);
  const torch::Tensor shift = torch::tensor({0.3, -1.2}, torch::kFloat64);
  SinkhornOptions full = tight(0.5);
  full.tolerance = 1e-9;
  SinkhornOptions half = full;
  half.cost = GroundCost::half_squared_euclidean;
  EXPECT_NEAR(item(sinkhorn_divergence(cloud, cloud + shift, {}, {}, full).value), 1.53, 1e-8);
  EXPECT_NEAR(item(sinkhorn_divergence(cloud, cloud + shift, {}, {}, half).value), 0.765, 1e-8);
}

TEST(Sinkhorn, PotDocumentationValues) {
  // ot.bregman.empirical_sinkhorn_divergence([[0],[1]], [[0],[1],[2],[3]], 0.1), converged
  // (distill_ot.md section 8): 1.499965952629 with <P, M>; the KL form gives 1.465346045838.
  const torch::Tensor x = column({0, 1}), y = column({0, 1, 2, 3});
  SinkhornOptions o = tight(0.1);
  o.tolerance = 1e-10;
  const SinkhornDivergence d = sinkhorn_divergence(x, y, {}, {}, o, SinkhornValue::transport);
  EXPECT_TRUE(d.converged()) << d.summary();
  EXPECT_NEAR(item(d.value), 1.499965952629, 1e-9);
  EXPECT_NEAR(item(d.cross.kl_value - 0.5 * (d.self_x.kl_value + d.self_y.kl_value)), 1.465346045838, 1e-9);
}

TEST(Sinkhorn, MatchesPotLogIteratesAtAFixedIterationCount) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  const torch::Tensor x = torch::randn({7, 3}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({5, 3}, gen, torch::kFloat64) + 0.5;
  // Uniform weights: POT starts from log-scalings 0, i.e. f = -eps log a, which
  // is our f = 0 only for uniform a (the limits agree for any weights, below).
  const torch::Tensor an = torch::full({7}, 1.0 / 7, torch::kFloat64);
  const torch::Tensor bn = torch::full({5}, 1.0 / 5, torch::kFloat64);
  SinkhornOptions o;
  o.eps = 0.3;
  o.eps_scaling = 1.0;  // POT has no annealing
  o.relaxation = 1.0;   // nor over-relaxation
  o.tolerance = 0.0;
  o.max_iterations = 9;
  o.return_plan = true;
  const SinkhornResult r = sinkhorn(x, y, an, bn, o);
  EXPECT_EQ(r.report.iterations, 9);
  EXPECT_FALSE(r.report.converged);
  const auto pot = parse_numbers(flowlab::testing::run_python(
      "import numpy as np, ot, warnings\nwarnings.filterwarnings('ignore')\n"
      "x = " + numpy_array(x) + "\ny = " + numpy_array(y) + "\n"
      "a = " + numpy_array(an) + "\nb = " + numpy_array(bn) + "\n"
      "M = ot.dist(x, y)\n"
      "P = ot.sinkhorn(a, b, M, 0.3, method='sinkhorn_log', numItermax=9, stopThr=0)\n"
      "for v in P.ravel(): print('%.17g' % v)\n"
      "print('%.17g' % (P * M).sum())\n"
      "P = ot.sinkhorn(a, b, M, 0.3, method='sinkhorn', numItermax=9, stopThr=0)\n"
      "print('%.17g' % np.abs(P - ot.sinkhorn(a, b, M, 0.3, method='sinkhorn_log', numItermax=9, stopThr=0)).max())\n"));
  ASSERT_EQ(pot.size(), 37u);
  const torch::Tensor plan = r.plan.flatten();
  for (int64_t k = 0; k < 35; ++k) EXPECT_NEAR(plan[k].item<double>(), pot[k], 1e-12) << k;
  EXPECT_NEAR(item(r.transport_cost), pot[35], 1e-12);
  EXPECT_LT(pot[36], 1e-12);  // POT's Knopp and log iterates agree
  // The same problem in a batch of two, the second with swapped roles of the weights' order.
  const SinkhornResult batched =
      sinkhorn(torch::stack({x, x}), torch::stack({y, y}), torch::stack({an, an}), torch::stack({bn, bn}), o);
  EXPECT_TRUE(torch::allclose(batched.plan[1], r.plan, 0, 1e-14));
}

TEST(Sinkhorn, MatchesPotConvergedValuesWithWeights) {
  at::Generator gen = at::detail::createCPUGenerator(12);
  const torch::Tensor x = torch::randn({30, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({20, 2}, gen, torch::kFloat64) * 0.5 + 1;
  const torch::Tensor a = torch::softmax(torch::randn({30}, gen, torch::kFloat64), 0);
  const torch::Tensor b = torch::softmax(torch::randn({20}, gen, torch::kFloat64), 0);
  const auto pot = parse_numbers(flowlab::testing::run_python(
      "import numpy as np, ot\n"
      "x = " + numpy_array(x) + "\ny = " + numpy_array(y) + "\n"
      "a = " + numpy_array(a) + "\nb = " + numpy_array(b) + "\n"
      "M = ot.dist(x, y)\n"
      "P = ot.sinkhorn(a, b, M, 0.2, method='sinkhorn_log', numItermax=100000, stopThr=1e-14)\n"
      "print('%.17g' % (P * M).sum())\n"
      "print('%.17g' % ((P * M).sum() + 0.2 * (P * np.log(P)).sum()))\n"
      "print('%.17g' % ((P * M).sum() + 0.2 * (P * np.log(P / np.outer(a, b))).sum()))\n"));
  ASSERT_EQ(pot.size(), 3u);
  const SinkhornResult r = sinkhorn(x, y, a, b, tight(0.2));
  EXPECT_TRUE(r.report.converged) << r.report.summary();
  EXPECT_NEAR(item(r.transport_cost), pot[0], 1e-9);
  EXPECT_NEAR(item(r.entropy_value), pot[1], 1e-9);
  EXPECT_NEAR(item(r.kl_value), pot[2], 1e-9);
  // Column blocks (O(n k) memory) give the same potentials and values.
  SinkhornOptions blocked = tight(0.2);
  blocked.block_columns = 7;
  const SinkhornResult rb = sinkhorn(x, y, a, b, blocked);
  EXPECT_NEAR(item(rb.kl_value), item(r.kl_value), 1e-11);
  EXPECT_NEAR(item(rb.transport_cost), item(r.transport_cost), 1e-11);
  EXPECT_TRUE(torch::allclose(rb.f, r.f, 0, 1e-9));
}

TEST(Sinkhorn, EntropicGaussianClosedForm) {
  // N(0, 1) vs N(1, 2.25), cost |x - y|^2, eps KL: 2.340877 (Janati et al. 2020),
  // on quadrature grids with density weights.
  const double eps = 1.0, s2 = eps / 2, a_var = 1.0, b_var = 2.25;
  const double d = std::sqrt(4 * std::sqrt(a_var) * b_var * std::sqrt(a_var) + s2 * s2);
  const double closed = 1.0 + a_var + b_var - d + s2 * (1 - std::log(2 * s2)) + s2 * std::log(d + s2);
  EXPECT_NEAR(closed, 2.340877, 1e-6);
  const torch::Tensor grid = torch::linspace(-9, 11, 801, torch::kFloat64);
  const torch::Tensor wa = torch::softmax(-0.5 * grid.pow(2) / a_var, 0);
  const torch::Tensor wb = torch::softmax(-0.5 * (grid - 1).pow(2) / b_var, 0);
  const SinkhornResult r = sinkhorn(grid.unsqueeze(1), grid.unsqueeze(1), wa, wb, tight(eps));
  EXPECT_NEAR(item(r.kl_value), closed, 2e-5);
}

double brute_force_assignment(const torch::Tensor& x, const torch::Tensor& y) {
  const torch::Tensor c = cost_matrix(x, y, GroundCost::squared_euclidean);
  std::vector<int> perm(x.size(0));
  std::iota(perm.begin(), perm.end(), 0);
  double best = 1e300;
  do {
    double total = 0;
    for (size_t i = 0; i < perm.size(); ++i) total += c[i][perm[i]].item<double>();
    best = std::min(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best / x.size(0);
}

TEST(Sinkhorn, SmallEpsilonReachesTheExactAssignmentAndOneDimensionalW2) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  const torch::Tensor x = torch::randn({6, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({6, 2}, gen, torch::kFloat64);
  const double exact = brute_force_assignment(x, y);
  SinkhornOptions o = tight(1e-4);
  o.tolerance = 1e-10;
  const SinkhornResult r = sinkhorn(x, y, {}, {}, o);
  EXPECT_TRUE(r.report.converged) << r.report.summary();
  EXPECT_NEAR(item(r.transport_cost), exact, 1e-6);
  // 1-D: W2^2 = mean |sort(x) - sort(y)|^2.
  const torch::Tensor u = torch::randn({50}, gen, torch::kFloat64), v = torch::randn({50}, gen, torch::kFloat64) * 2;
  const double w2 = (std::get<0>(u.sort()) - std::get<0>(v.sort())).pow(2).mean().item<double>();
  // Sinkhorn needs ~1e5 updates at eps = 1e-3 here (POT too), so a larger eps.
  o.eps = 1e-2;
  o.tolerance = 1e-5;
  const auto dv = sinkhorn_divergence(u.unsqueeze(1), v.unsqueeze(1), {}, {}, o, SinkhornValue::transport);
  EXPECT_TRUE(dv.converged()) << dv.summary();
  EXPECT_NEAR(item(dv.value), w2, 5e-3 * w2);
}

TEST(Sinkhorn, SelfProblemMatchesTheGeneralSolver) {
  at::Generator gen = at::detail::createCPUGenerator(8);
  const torch::Tensor x = torch::randn({25, 3}, gen, torch::kFloat64);
  const torch::Tensor a = torch::softmax(torch::randn({25}, gen, torch::kFloat64), 0);
  // A plan of the form a_i a_k exp((f_i + f_k - C_ik) / eps) with the right
  // marginals is the unique optimum, so a converged report (the returned plan's
  // marginals within 1e-12) certifies the self solver.
  const SinkhornResult s = sinkhorn_self(x, a, tight(0.3));
  EXPECT_TRUE(s.report.converged) << s.report.summary();
  EXPECT_LT(s.report.iterations, 200);
  // Alternating updates crawl on a cloud with itself (POT's too: ~1e5 updates
  // for 1e-9 here), the reason for the averaged update; compare loosely.
  SinkhornOptions loose = tight(0.3);
  loose.max_iterations = 20000;
  const SinkhornResult g = sinkhorn(x, x, a, a, loose);
  EXPECT_LT(g.report.marginal_error, 1e-5);
  EXPECT_NEAR(item(s.kl_value), item(g.kl_value), 1e-6);
  EXPECT_NEAR(item(s.transport_cost), item(g.transport_cost), 1e-5);
  EXPECT_NEAR(item(s.entropy_value) - item(s.kl_value), item(g.entropy_value) - item(g.kl_value), 1e-12);
}

// Central differences of the converged divergence against its envelope gradient.
TEST(Sinkhorn, EnvelopeGradientsMatchFiniteDifferences) {
  at::Generator gen = at::detail::createCPUGenerator(9);
  const torch::Tensor x0 = torch::randn({6, 2}, gen, torch::kFloat64);
  const torch::Tensor y0 = torch::randn({5, 2}, gen, torch::kFloat64) + 0.3;
  const torch::Tensor a0 = torch::softmax(torch::randn({6}, gen, torch::kFloat64), 0);
  const torch::Tensor b0 = torch::softmax(torch::randn({5}, gen, torch::kFloat64), 0);
  for (GroundCost cost : {GroundCost::squared_euclidean, GroundCost::euclidean}) {
    SinkhornOptions o = tight(0.4);
    o.cost = cost;
    const auto value = [&](const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a) {
      return sinkhorn_divergence(x, y, a, b0, o).value;
    };
    torch::Tensor x = x0.clone().requires_grad_(true), y = y0.clone().requires_grad_(true);
    torch::Tensor a = a0.clone().requires_grad_(true);
    value(x, y, a).backward();
    const double h = 1e-5;
    for (int64_t i = 0; i < 6; ++i) {
      for (int64_t k = 0; k < 2; ++k) {
        torch::Tensor dx = torch::zeros_like(x0);
        dx[i][k] = h;
        const double fd = (item(value(x0 + dx, y0, a0)) - item(value(x0 - dx, y0, a0))) / (2 * h);
        EXPECT_NEAR(x.grad()[i][k].item<double>(), fd, 1e-7) << ground_cost_name(cost) << " x " << i << k;
      }
    }
    for (int64_t j = 0; j < 5; ++j) {
      torch::Tensor dy = torch::zeros_like(y0);
      dy[j][1] = h;
      const double fd = (item(value(x0, y0 + dy, a0)) - item(value(x0, y0 - dy, a0))) / (2 * h);
      EXPECT_NEAR(y.grad()[j][1].item<double>(), fd, 1e-7) << ground_cost_name(cost) << " y " << j;
    }
    // Weights: along a direction that keeps the sum at 1.
    torch::Tensor da = torch::zeros_like(a0);
    da[1] = h;
    da[4] = -h;
    const double fd = (item(value(x0, y0, a0 + da)) - item(value(x0, y0, a0 - da))) / (2 * h);
    EXPECT_NEAR((a.grad()[1] - a.grad()[4]).item<double>(), fd, 1e-6) << ground_cost_name(cost) << " a";
  }
}

TEST(Sinkhorn, FloatThirtyTwoWithTinyEpsilonReportsNonConvergence) {
  at::Generator gen = at::detail::createCPUGenerator(4);
  const torch::Tensor x = torch::randn({40, 2}, gen);
  const torch::Tensor y = torch::randn({40, 2}, gen) + 1;
  SinkhornOptions o;
  o.eps = 1e-6;
  o.tolerance = 1e-6;
  o.max_iterations = 300;
  const SinkhornResult r = sinkhorn(x, y, {}, {}, o);
  EXPECT_FALSE(r.report.converged);
  EXPECT_NE(r.report.summary().find("NOT converged"), std::string::npos) << r.report.summary();
  EXPECT_TRUE(std::isfinite(item(r.transport_cost)));
  EXPECT_TRUE(std::isfinite(item(r.kl_value)));
}

TEST(Sinkhorn, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::Generator gen = at::detail::createCPUGenerator(13);
  const torch::Tensor x = torch::randn({300, 3}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({200, 3}, gen, torch::kFloat64) + 0.5;
  SinkhornOptions o = tight(0.1);
  o.tolerance = 1e-9;
  const SinkhornDivergence cpu = sinkhorn_divergence(x, y, {}, {}, o);
  torch::Tensor xc = x.cuda().requires_grad_(true);
  const SinkhornDivergence gpu = sinkhorn_divergence(xc, y.cuda(), {}, {}, o);
  EXPECT_TRUE(gpu.converged()) << gpu.summary();
  EXPECT_NEAR(item(gpu.value.cpu()), item(cpu.value), 1e-7);
  gpu.value.backward();
  EXPECT_TRUE(xc.grad().is_cuda());
  // Column blocks and float32 on the device as well.
  o.block_columns = 64;
  o.tolerance = 1e-4;
  EXPECT_NEAR(item(sinkhorn_divergence(x.cuda().to(torch::kFloat32), y.cuda().to(torch::kFloat32), {}, {}, o)
                       .value.cpu()),
              item(cpu.value), 1e-3);
}

TEST(Sinkhorn, RejectsBadInput) {
  const torch::Tensor x = column({0, 1});
  SinkhornOptions o;
  o.eps = 0;
  EXPECT_THROW(sinkhorn(x, x, {}, {}, o), c10::Error);
  o.eps = 0.1;
  EXPECT_THROW(sinkhorn(x, x, torch::tensor({0.7, 0.7}, torch::kFloat64), {}, o), c10::Error);
  EXPECT_THROW(sinkhorn(x, torch::zeros({3, 2}, torch::kFloat64), {}, {}, o), c10::Error);
  EXPECT_THROW(parse_ground_cost("l2"), std::invalid_argument);
  EXPECT_THROW(parse_sinkhorn_value("dual"), std::invalid_argument);
}

}  // namespace
}  // namespace flowlab::ot
