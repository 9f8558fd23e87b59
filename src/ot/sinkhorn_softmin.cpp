#include "sinkhorn_softmin.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace flowlab::ot::detail {
namespace {

// Entries of C (per batch) held as one matrix: 2^27 (1 GiB in float64).
constexpr int64_t kMaxWholeEntries = int64_t{1} << 27;
constexpr int64_t kAutoBlockColumns = 4096;
// Below this many entries per problem, one batched product beats a loop.
constexpr int64_t kSmallKernel = int64_t{1} << 16;
// Entries of K o C formed at once for the transport cost: small enough for malloc to reuse the buffer
// (not a fresh mapping, with its page faults, per chunk).
constexpr int64_t kChunkEntries = int64_t{1} << 18;

// K [B, n, m] (possibly a transposed view) times v [B, m], as [B, n]. Large
// matrices go one by one through mv, which reads a transposed view in place
// (BLAS gemv); a batched matmul may copy it first.
torch::Tensor kernel_product(const torch::Tensor& kernel, const torch::Tensor& v) {
  if (kernel.size(0) == 1) return torch::mv(kernel[0], v[0]).unsqueeze(0);
  if (kernel.size(1) * kernel.size(2) < kSmallKernel) return torch::matmul(kernel, v.unsqueeze(2)).squeeze(2);
  std::vector<torch::Tensor> out;
  for (int64_t b = 0; b < kernel.size(0); ++b) out.push_back(torch::mv(kernel[b], v[b]));
  return torch::stack(out);
}

// Whether every entry of t is finite, by one reduction (isfinite is four ops in LibTorch 1.13): a sum
// is NaN or infinite when an entry is. A sum of finite entries that overflows also reads as
// non-finite, which only sends a caller to its exact path.
bool all_finite(const torch::Tensor& t) { return std::isfinite(t.sum().item<double>()); }

}  // namespace

CostBlocks::CostBlocks(const torch::Tensor& x, const torch::Tensor& y, GroundCost cost, int64_t block_columns)
    : x_(x), y_(y), cost_(cost) {
  const int64_t n = x.size(1), m = y.size(1);
  columns_ = m;
  int64_t columns = block_columns;
  if (columns <= 0) columns = x.size(0) * n * m <= kMaxWholeEntries ? m : kAutoBlockColumns;
  columns = std::min(columns, m);
  for (int64_t s = 0; s < m; s += columns) starts_.push_back(s);
  if (columns == m) whole_ = cost_matrix(x_, y_, cost_);
}

CostBlocks::CostBlocks(const torch::Tensor& matrix) : whole_(matrix), columns_(matrix.size(2)), starts_{0} {}

int64_t CostBlocks::width(int64_t k) const {
  const int64_t end = k + 1 < count() ? starts_[k + 1] : columns_;
  return end - starts_[k];
}

torch::Tensor CostBlocks::block(int64_t k) const {
  if (whole()) return whole_;
  return cost_matrix(x_, y_.narrow(1, start(k), width(k)), cost_);
}

Softmin::Softmin(const CostBlocks& costs, torch::Tensor log_a, torch::Tensor log_b)
    : costs_(costs), log_a_(std::move(log_a)), log_b_(std::move(log_b)) {
  a_ = log_a_.exp();
  b_ = log_b_.exp();
  // How far (in units of eps) potentials may drift from the kernel's before
  // exp(shift) * K loses the entries that matter to under- or overflow.
  max_shift_ = log_a_.scalar_type() == torch::kFloat64 ? 50.0 : 15.0;
}

void Softmin::set_eps(double eps, const torch::Tensor& f, const torch::Tensor& g) {
  const double previous = eps_;
  eps_ = eps;
  if (!costs_.whole()) return;
  // Halving eps squares a kernel kept at its absorption point, exp(2 (f0 + g0 - C) / eps_old) = K^2: one
  // multiplication pass instead of three passes and an exp, when the potentials are still near (f0, g0).
  if (kernel_.defined() && previous == 2 * eps && !drifted((f - f0_) / eps) && !drifted((g - g0_) / eps)) {
    kernel_.mul_(kernel_);
    return;
  }
  // Otherwise warm potentials make a good kernel at once (one exp pass); should a
  // row or column of it underflow, that step falls back to the exact one.
  stabilise(f, g);
}

torch::Tensor Softmin::exact_rows(const torch::Tensor& g) const {
  const torch::Tensor h = log_b_ + g / eps_;
  std::vector<torch::Tensor> parts;
  for (int64_t k = 0; k < costs_.count(); ++k) {
    const torch::Tensor hk = h.narrow(1, costs_.start(k), costs_.width(k)).unsqueeze(1);
    parts.push_back(torch::logsumexp(torch::sub(hk, costs_.block(k), 1.0 / eps_), {2}));
  }
  const torch::Tensor lse = parts.size() == 1 ? parts[0] : torch::logsumexp(torch::stack(parts, 2), {2});
  return -eps_ * lse;
}

torch::Tensor Softmin::exact_cols(const torch::Tensor& f) const {
  const torch::Tensor h = (log_a_ + f / eps_).unsqueeze(2);
  std::vector<torch::Tensor> parts;
  for (int64_t k = 0; k < costs_.count(); ++k) {
    parts.push_back(torch::logsumexp(torch::sub(h, costs_.block(k), 1.0 / eps_), {1}));
  }
  return -eps_ * (parts.size() == 1 ? parts[0] : torch::cat(parts, 1));
}

void Softmin::stabilise(const torch::Tensor& f, const torch::Tensor& g) {
  f0_ = f;
  g0_ = g;
  // Three passes: (f + g) / eps broadcast, minus C / eps, exp. Potentials far from this eps's (a
  // cut-short annealing) can overflow it; the products then come out non-finite and the exact
  // steps take over until the next stabilisation.
  // The buffer is reused: a fresh n x m allocation costs as much as a pass (page faults).
  const torch::Tensor& cost = costs_.matrix();
  if (!kernel_.defined() || kernel_.sizes() != cost.sizes() || kernel_.scalar_type() != cost.scalar_type()) {
    kernel_ = torch::empty_like(cost);
  }
  torch::add_out(kernel_, (f / eps_).unsqueeze(2), (g / eps_).unsqueeze(1));
  kernel_.sub_(cost, 1.0 / eps_).exp_();
}

bool Softmin::drifted(const torch::Tensor& shift) const {
  return !(shift.abs().max().item<double>() <= max_shift_);  // also true for NaN
}

torch::Tensor Softmin::rows(const torch::Tensor& g) {
  if (costs_.whole() && kernel_.defined()) {
    const torch::Tensor shift = (g - g0_) / eps_;
    if (!drifted(shift)) {
      const torch::Tensor s = kernel_product(kernel_, b_ * shift.exp());
      const torch::Tensor f = f0_ - eps_ * s.log();
      if ((finite_ = all_finite(f))) return f;
    }
  }
  torch::Tensor f = exact_rows(g);
  finite_ = all_finite(f);
  if (costs_.whole()) stabilise(f, g);
  return f;
}

torch::Tensor Softmin::cols(const torch::Tensor& f) {
  if (costs_.whole() && kernel_.defined()) {
    const torch::Tensor shift = (f - f0_) / eps_;
    if (!drifted(shift)) {
      const torch::Tensor t = kernel_product(kernel_.transpose(1, 2), a_ * shift.exp());
      const torch::Tensor g = g0_ - eps_ * t.log();
      if ((finite_ = all_finite(g))) return g;
    }
  }
  torch::Tensor g = exact_cols(f);
  finite_ = all_finite(g);
  if (costs_.whole()) stabilise(f, g);
  return g;
}

bool Softmin::kernel_plan_sums(const torch::Tensor& f, const torch::Tensor& g, PlanSums& out) const {
  if (!costs_.whole() || !kernel_.defined() || kernel_.scalar_type() != torch::kFloat64) return false;
  const torch::Tensor f_shift = (f - f0_) / eps_, g_shift = (g - g0_) / eps_;
  if (drifted(f_shift) || drifted(g_shift)) return false;
  const torch::Tensor u = a_ * f_shift.exp(), v = b_ * g_shift.exp();
  out.rows = u * kernel_product(kernel_, v);
  out.columns = v * kernel_product(kernel_.transpose(1, 2), u);
  // sum_i u_i ((K o C) v)_i, by row chunks so the product K o C never needs a whole matrix.
  const torch::Tensor& cost = costs_.matrix();
  const int64_t n = kernel_.size(1), chunk = std::max<int64_t>(1, kChunkEntries / std::max<int64_t>(1, kernel_.size(2)));
  out.transport = torch::zeros({kernel_.size(0)}, kernel_.options());
  for (int64_t r = 0; r < n; r += chunk) {
    const int64_t rows = std::min(chunk, n - r);
    const torch::Tensor weighted = kernel_.narrow(1, r, rows) * cost.narrow(1, r, rows);
    out.transport += (u.narrow(1, r, rows) * kernel_product(weighted, v)).sum(1);
  }
  return all_finite(out.rows) && all_finite(out.columns) && all_finite(out.transport);
}

torch::Tensor Softmin::log_plan_block(const torch::Tensor& f, const torch::Tensor& g, int64_t k) const {
  const torch::Tensor gk = g.narrow(1, costs_.start(k), costs_.width(k));
  const torch::Tensor lbk = log_b_.narrow(1, costs_.start(k), costs_.width(k));
  const torch::Tensor row = (log_a_ + f / eps_).unsqueeze(2);
  const torch::Tensor col = (lbk + gk / eps_).unsqueeze(1);
  return torch::sub(row + col, costs_.block(k), 1.0 / eps_);
}

}  // namespace flowlab::ot::detail
