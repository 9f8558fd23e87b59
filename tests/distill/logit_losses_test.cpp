// Distillation losses against the reference values of distill_ot.md section 8, an independent
// NumPy implementation on random logits, central differences, and their identities.
#include "flowlab/distill/logit_losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "flowlab/core/error.h"
#include "ot/oracle_arrays.h"
#include "support/helpers.h"

namespace flowlab::distill {
namespace {

using ot::testing::numpy_array;

torch::Tensor row(std::initializer_list<double> values) {
  return torch::tensor(std::vector<double>(values), torch::kFloat64).unsqueeze(0);
}
torch::Tensor label(int64_t y) { return torch::tensor({y}, torch::kLong); }

double value(const torch::Tensor& t) { return t.item<double>(); }

// The paper's rule is tested separately; here a fixed, asymmetric split.
std::pair<torch::Tensor, torch::Tensor> fixed_balance(const torch::Tensor& hs, const torch::Tensor& ht) {
  return {torch::full_like(hs, 0.7), torch::full_like(ht, 0.3)};
}

TEST(LogitLosses, ReferenceValues) {
  const torch::Tensor s = row({1, 2, 3}), t = row({2, 0, 1});
  EXPECT_NEAR(value(kd_loss(s, t, 2.0)) / 4.0, 0.259720586583, 1e-12);
  EXPECT_NEAR(value(kd_loss(s, t, 2.0)), 1.038882346334, 1e-12);
  EXPECT_NEAR(value(reverse_kd_loss(s, t, 2.0)) / 4.0, 0.220514415161, 1e-12);
  // torchdistill's KDLoss(alpha = 0.5) = 0.5 CE + 0.5 T^2 KL.
  const double ce = -value(torch::log_softmax(s, 1)[0][1]);
  EXPECT_NEAR(ce, 1.407605964444, 1e-12);
  EXPECT_NEAR(0.5 * ce + 0.5 * value(kd_loss(s, t, 2.0)), 1.223244155389, 1e-12);

  const torch::Tensor ps = row({1, 2, 0.5, -1}), pt = row({2, 3, 0, 1});
  EXPECT_NEAR(value(pld_loss(ps, pt, label(0), 1.0)), 0.657835187574, 1e-12);
  EXPECT_NEAR(value(pld_loss(ps, pt, label(1), 1.0)), 0.598582945468, 1e-12);
  EXPECT_NEAR(value(pld_loss(ps, row({50, 0, 0, 0}), label(0), 1.0)), 1.495181898086, 1e-12);  // = CE
  EXPECT_NEAR(value(pld_loss(ps + 7.0, pt, label(0), 1.0)), 0.657835187574, 1e-12);
  EXPECT_EQ(value(pld_loss(row({3}), row({-1}), label(0), 1.0)), 0.0);  // C = 1

  const torch::Tensor zs = torch::tensor({1.0, 0.0, -1.0, 0.0, 2.0, 0.0}, torch::kFloat64).reshape({2, 3});
  const torch::Tensor zt = torch::tensor({2.0, 0.0, -1.0, 0.0, 1.0, 1.0}, torch::kFloat64).reshape({2, 3});
  EXPECT_NEAR(value(sinkd_plain_loss(zs, zt, 2.0, 0.1, 20)), 0.645191088915, 1e-11);
  EXPECT_NEAR(value(sinkd_plain_loss(zs, zs, 2.0, 0.1, 20)), 0.003248416139, 1e-11);  // not 0
}

TEST(LogitLosses, MatchAnIndependentNumpyImplementation) {
  torch::manual_seed(3);
  const int64_t b = 7, k = 5;
  const torch::Tensor s = torch::randn({b, k}, torch::kFloat64) * 2;
  const torch::Tensor t = torch::randn({b, k}, torch::kFloat64) * 2;
  const torch::Tensor y = torch::randint(0, k, {b}, torch::kLong);
  const std::string script =
      "import numpy as np\n"
      "s = " + numpy_array(s) + "\nt = " + numpy_array(t) + "\ny = " + numpy_array(y) + ".astype(int)\n"
      "def lsm(z):\n"
      "    m = z.max(1, keepdims=True); return z - m - np.log(np.exp(z - m).sum(1, keepdims=True))\n"
      "def kl(lp, lq): return (np.exp(lp) * (lp - lq)).sum(1)\n"
      "T = 3.0\n"
      "ls, lt = lsm(s / T), lsm(t / T)\n"
      "print(T * T * kl(lt, ls).mean()); print(T * T * kl(ls, lt).mean())\n"
      "lm = np.log((np.exp(ls) + np.exp(lt)) / 2)\n"
      "print(T * T * 0.5 * (kl(lt, lm) + kl(ls, lm)).mean())\n"
      "# DKD as mdistiller: binary KL and the non-target KL with the target logit lowered by 1000\n"
      "ps, pt = np.exp(ls), np.exp(lt)\n"
      "mask = np.zeros_like(s); mask[np.arange(len(y)), y] = 1\n"
      "bs = np.stack([(ps * mask).sum(1), (ps * (1 - mask)).sum(1)], 1)\n"
      "bt = np.stack([(pt * mask).sum(1), (pt * (1 - mask)).sum(1)], 1)\n"
      "tckd = (bt * (np.log(bt) - np.log(bs))).sum(1)\n"
      "ns, nt = lsm(s / T - 1000 * mask), lsm(t / T - 1000 * mask)\n"
      "nckd = (np.exp(nt) * (nt - ns)).sum(1)\n"
      "print((T * T * (1.0 * tckd + 8.0 * nckd)).mean())\n"
      "# DIST: tau = 2, beta = 1, gamma = 2\n"
      "tau = 2.0; ys, yt = np.exp(lsm(s / tau)), np.exp(lsm(t / tau))\n"
      "def pear(a, b):\n"
      "    a = a - a.mean(1, keepdims=True); b = b - b.mean(1, keepdims=True)\n"
      "    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-8)\n"
      "print(tau * tau * (1.0 * (1 - pear(ys, yt).mean()) + 2.0 * (1 - pear(ys.T, yt.T).mean())))\n"
      "# PLD, tau_T = 2\n"
      "at = np.exp(lsm(t / 2.0)); L = 0\n"
      "for i in range(len(y)):\n"
      "    pi = [y[i]] + [c for c in np.argsort(-t[i], kind='stable') if c != y[i]]\n"
      "    sp, a = s[i][pi], at[i][pi]\n"
      "    L += sum(a[j] * (np.log(np.exp(sp[j:]).sum()) - sp[j]) for j in range(len(pi)))\n"
      "print(L / len(y))\n"
      "# SinKD, code semantics, T = 2, eps = 0.1, 20 iterations\n"
      "q, r = np.exp(lsm(s / 2.0)), np.exp(lsm(t / 2.0))\n"
      "C = np.abs(q[:, None, :] - r[None, :, :]).sum(2); K = np.exp(-C / 0.1)\n"
      "for _ in range(20):\n"
      "    K = K / K.sum(1, keepdims=True); K = K / K.sum(0, keepdims=True)\n"
      "print((K * C).sum())\n"
      "# BD-KD with fixed weights 0.7, 0.3\n"
      "print(T * T * (0.7 * kl(lt, ls) + 0.3 * kl(ls, lt)).mean())\n";
  std::istringstream out(testing::run_python(script));
  std::vector<double> expected;
  for (double v; out >> v;) expected.push_back(v);
  ASSERT_EQ(expected.size(), 8u);
  EXPECT_NEAR(value(kd_loss(s, t, 3.0)), expected[0], 1e-12);
  EXPECT_NEAR(value(reverse_kd_loss(s, t, 3.0)), expected[1], 1e-12);
  EXPECT_NEAR(value(js_loss(s, t, 3.0)), expected[2], 1e-12);
  EXPECT_NEAR(value(dkd_loss(s, t, y, 3.0, 1.0, 8.0)), expected[3], 1e-10);
  EXPECT_NEAR(value(dist_loss(s, t, 2.0, 1.0, 2.0)), expected[4], 1e-12);
  EXPECT_NEAR(value(pld_loss(s, t, y, 2.0)), expected[5], 1e-12);
  EXPECT_NEAR(value(sinkd_plain_loss(s, t, 2.0, 0.1, 20)), expected[6], 1e-11);
  EXPECT_NEAR(value(bd_kd_loss(s, t, 3.0, fixed_balance)), expected[7], 1e-12);
}

// Every loss's gradient in the student logits against central differences, in float64.
TEST(LogitLosses, GradientsMatchCentralDifferences) {
  torch::manual_seed(4);
  const int64_t b = 4, k = 5;
  const torch::Tensor s0 = torch::randn({b, k}, torch::kFloat64), t = torch::randn({b, k}, torch::kFloat64);
  const torch::Tensor y = torch::tensor({0, 3, 1, 4}, torch::kLong);
  const std::vector<std::pair<std::string, std::function<torch::Tensor(const torch::Tensor&)>>> losses{
      {"kd", [&](const torch::Tensor& s) { return kd_loss(s, t, 2.0); }},
      {"reverse_kd", [&](const torch::Tensor& s) { return reverse_kd_loss(s, t, 2.0); }},
      {"js", [&](const torch::Tensor& s) { return js_loss(s, t, 2.0); }},
      {"dkd", [&](const torch::Tensor& s) { return dkd_loss(s, t, y, 2.0, 1.0, 8.0); }},
      {"dist", [&](const torch::Tensor& s) { return dist_loss(s, t, 1.5, 1.0, 1.0); }},
      {"bd_kd", [&](const torch::Tensor& s) { return bd_kd_loss(s, t, 2.0, fixed_balance); }},
      {"pld", [&](const torch::Tensor& s) { return pld_loss(s, t, y, 1.0); }},
      {"sinkd_plain", [&](const torch::Tensor& s) { return sinkd_plain_loss(s, t, 2.0, 0.1, 20); }},
  };
  const double h = 1e-6;
  for (const auto& [name, loss] : losses) {
    const torch::Tensor s = s0.clone().requires_grad_(true);
    const torch::Tensor grad = torch::autograd::grad({loss(s)}, {s})[0];
    torch::Tensor numeric = torch::zeros_like(s0);
    for (int64_t i = 0; i < b; ++i) {
      for (int64_t j = 0; j < k; ++j) {
        torch::Tensor plus = s0.clone(), minus = s0.clone();
        plus[i][j] += h;
        minus[i][j] -= h;
        numeric[i][j] = (value(loss(plus)) - value(loss(minus))) / (2 * h);
      }
    }
    EXPECT_LT((grad - numeric).abs().max().item<double>(), 1e-7) << name;
    EXPECT_GT(grad.abs().max().item<double>(), 1e-4) << name;  // a gradient that is there
  }
}

// dL/ds = sum_k alpha_k (sigma_k - e_{pi*_k}), sigma_k the softmax over the tail {pi*_k, ...}.
TEST(LogitLosses, PldGradientHasItsClosedForm) {
  const torch::Tensor s = row({1, 2, 0.5, -1}).requires_grad_(true), t = row({2, 3, 0, 1});
  const torch::Tensor grad = torch::autograd::grad({pld_loss(s, t, label(0), 1.0)}, {s})[0];
  const std::vector<int64_t> pi{0, 1, 3, 2};
  const torch::Tensor alpha = torch::softmax(t[0], 0);
  torch::Tensor expected = torch::zeros({4}, torch::kFloat64);
  for (std::size_t k = 0; k < pi.size(); ++k) {
    const std::vector<int64_t> tail(pi.begin() + k, pi.end());
    const torch::Tensor index = torch::tensor(tail, torch::kLong);
    const torch::Tensor sigma = torch::softmax(s.detach()[0].index_select(0, index), 0);
    expected.index_add_(0, index, alpha[pi[k]] * sigma);
    expected[pi[k]] -= alpha[pi[k]];
  }
  EXPECT_LT((grad[0] - expected).abs().max().item<double>(), 1e-14);
}

// T^2 KL's gradient T (p_s - p_t) tends to (s - t) / K for zero-mean logits as T grows.
TEST(LogitLosses, KdGradientTendsToTheLogitDifferenceForLargeTemperature) {
  torch::manual_seed(5);
  torch::Tensor s = torch::randn({3, 6}, torch::kFloat64), t = torch::randn({3, 6}, torch::kFloat64);
  s = s - s.mean(1, true);
  t = t - t.mean(1, true);
  const torch::Tensor limit = (s - t) / 6.0 / 3.0;  // / B: the batch mean
  double previous = INFINITY;
  for (double temperature : {10.0, 100.0, 1000.0}) {
    const torch::Tensor x = s.clone().requires_grad_(true);
    const torch::Tensor grad = torch::autograd::grad({kd_loss(x, t, temperature)}, {x})[0];
    const double error = (grad - limit).abs().max().item<double>() / limit.abs().max().item<double>();
    EXPECT_LT(error, previous);
    previous = error;
  }
  EXPECT_LT(previous, 1e-3);
}

// KL(p_t || p_s) = TCKD + (1 - p_t,y) NCKD per sample (Zhao et al. 2022, eq. 5), at any T; so
// DKD equals KD when beta is that per-sample factor, and not for a constant beta = 1.
TEST(LogitLosses, DkdDecomposesKd) {
  torch::manual_seed(6);
  const torch::Tensor s = torch::randn({8, 10}, torch::kFloat64) * 2, t = torch::randn({8, 10}, torch::kFloat64) * 2;
  const torch::Tensor y = torch::randint(0, 10, {8}, torch::kLong);
  for (double temperature : {1.0, 4.0}) {
    const DkdParts parts = dkd_parts(s, t, y, temperature);
    const torch::Tensor recombined = parts.target + (1 - parts.teacher_target_probability) * parts.non_target;
    const double kd = value(kd_loss(s, t, temperature)) / (temperature * temperature);
    EXPECT_NEAR(recombined.mean().item<double>(), kd, 1e-12) << temperature;
  }
  EXPECT_GT(std::abs(value(dkd_loss(s, t, y, 1.0, 1.0, 1.0)) - value(kd_loss(s, t, 1.0))), 1e-3);
}

TEST(LogitLosses, ZeroWhereTheDistributionsAgree) {
  torch::manual_seed(7);
  const torch::Tensor z = torch::randn({5, 4}, torch::kFloat64);
  const torch::Tensor y = torch::randint(0, 4, {5}, torch::kLong);
  EXPECT_NEAR(value(kd_loss(z, z, 2.0)), 0.0, 1e-15);
  EXPECT_NEAR(value(reverse_kd_loss(z, z, 2.0)), 0.0, 1e-15);
  EXPECT_NEAR(value(js_loss(z, z, 2.0)), 0.0, 1e-15);
  EXPECT_NEAR(value(dkd_loss(z, z, y, 2.0, 1.0, 8.0)), 0.0, 1e-14);
  EXPECT_NEAR(value(dist_loss(z, z, 1.0, 1.0, 1.0)), 0.0, 1e-14);
  EXPECT_NEAR(value(bd_kd_loss(z, z, 2.0, fixed_balance)), 0.0, 1e-15);
  EXPECT_NEAR(value(js_loss(z, -10 * z, 1.0)), value(js_loss(z, -10 * z, 1.0)), 0.0);
  EXPECT_LE(value(js_loss(z * 100, -z * 100, 1.0)), std::log(2.0) + 1e-12);  // JS <= log 2
}

// The log-domain SinKD: <P*, C> with P* POT's entropic plan between uniform marginals, and the
// envelope gradient P* (x) dC.
TEST(LogitLosses, LogDomainSinkdMatchesPotsPlan) {
  torch::manual_seed(8);
  const torch::Tensor s = torch::randn({6, 4}, torch::kFloat64), t = torch::randn({6, 4}, torch::kFloat64);
  const std::string pot = testing::run_python(
      "import numpy as np, ot\n"
      "s = " + numpy_array(s) + "\nt = " + numpy_array(t) + "\n"
      "def sm(z): e = np.exp(z - z.max(1, keepdims=True)); return e / e.sum(1, keepdims=True)\n"
      "p, q = sm(s / 2.0), sm(t / 2.0)\n"
      "C = np.abs(p[:, None, :] - q[None, :, :]).sum(2)\n"
      "P = ot.sinkhorn(np.ones(6) / 6, np.ones(6) / 6, C, 0.05, method='sinkhorn_log', numItermax=100000, stopThr=1e-13)\n"
      "print('%.15f' % (P * C).sum())\n");
  EXPECT_NEAR(value(sinkd_loss(s, t, 2.0, 0.05, 1e-12, 100000)), std::stod(pot), 1e-10);
  // Not converged: an error, not a number.
  EXPECT_THROW(sinkd_loss(s, t, 2.0, 1e-4, 1e-12, 3), Error);
}

TEST(LogitLosses, BadInputsAreErrors) {
  const torch::Tensor s = torch::zeros({2, 3}, torch::kFloat64);
  EXPECT_THROW(kd_loss(s, torch::zeros({2, 4}, torch::kFloat64), 1.0), c10::Error);
  EXPECT_THROW(kd_loss(s, s, 0.0), c10::Error);
  EXPECT_THROW(pld_loss(s, s, torch::zeros({3}, torch::kLong), 1.0), c10::Error);
}

}  // namespace
}  // namespace flowlab::distill
