#include "flowlab/ot/monge_gap.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace flowlab::ot {
namespace {

torch::Tensor points_on_line(std::vector<double> values) { return torch::tensor(values, torch::kFloat64).unsqueeze(1); }

double gap(const torch::Tensor& x, const torch::Tensor& tx, double eps) {
  SinkhornOptions o;
  o.eps = eps;
  o.tolerance = 1e-10;
  o.max_iterations = 100000;
  SinkhornReport report;
  const double value = monge_gap(x, tx, o, &report).item<double>();
  EXPECT_TRUE(report.converged) << report.summary();
  return value;
}

TEST(MongeGap, ReferenceValues) {
  // distill_ot.md section 8.8 (OTT's definition with ent_reg_cost).
  const torch::Tensor x = points_on_line({0, 1, 3});
  EXPECT_NEAR(gap(x, x, 0.5), 0.5917204100, 1e-8);
  EXPECT_NEAR(gap(x, x, 0.1), 0.1098642555, 1e-8);
  for (double eps : {0.5, 0.1}) {  // T = Id: M in [eps log n, 2 eps log n]
    EXPECT_GE(gap(x, x, eps), eps * std::log(3.0) - 1e-12);
    EXPECT_LE(gap(x, x, eps), 2 * eps * std::log(3.0) + 1e-12);
  }
  // Well-separated images: the entropic plan is a permutation up to exp(-80), so
  // M = mean |x - T x|^2 - W2^2 + eps log 3 exactly. A monotone map has
  // M = eps log 3 -> 0; T = -x keeps 20/3 - 2/3 = 6. (distill_ot.md's [num]
  // values 0.055003, 0.011054, 6.054927, 6.010979 are up to 7e-5 off these.)
  const torch::Tensor z = points_on_line({-1, 0, 2});
  for (double eps : {0.05, 0.01}) {
    EXPECT_NEAR(gap(z, 2 * z + 1, eps), eps * std::log(3.0), 1e-9);
    EXPECT_NEAR(gap(z, -z, eps), 6.0 + eps * std::log(3.0), 1e-9);
  }
}

TEST(MongeGap, GradientMatchesFiniteDifferences) {
  at::Generator gen = at::detail::createCPUGenerator(6);
  const torch::Tensor x = torch::randn({5, 2}, gen, torch::kFloat64);
  const torch::Tensor t0 = x.flip(0) * 0.7 + 0.2;
  torch::Tensor tx = t0.clone().requires_grad_(true);
  SinkhornOptions o;
  o.eps = 1.0;
  o.tolerance = 1e-12;
  o.max_iterations = 100000;
  SinkhornReport report;
  monge_gap(x, tx, o, &report).backward();
  EXPECT_TRUE(report.converged) << report.summary();
  const double h = 1e-5;
  for (int64_t i = 0; i < 5; ++i) {
    torch::Tensor d = torch::zeros_like(t0);
    d[i][0] = h;
    const double fd = (monge_gap(x, t0 + d, o).item<double>() - monge_gap(x, t0 - d, o).item<double>()) / (2 * h);
    EXPECT_NEAR(tx.grad()[i][0].item<double>(), fd, 1e-7) << i;
  }
}

}  // namespace
}  // namespace flowlab::ot
