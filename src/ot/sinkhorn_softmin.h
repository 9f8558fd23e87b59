#pragma once
// Private to the Sinkhorn solver: the cost matrix by column blocks, and the two
// soft-minimum half-steps of Sinkhorn on dual potentials.
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "flowlab/ot/ground_cost.h"

namespace flowlab::ot::detail {

/// C between x [B, n, d] and y [B, m, d], column block by column block. One
/// block (the whole matrix, computed once) when it fits; otherwise each block is
/// recomputed when asked for, so memory stays O(B n block).
class CostBlocks {
 public:
  CostBlocks(const torch::Tensor& x, const torch::Tensor& y, GroundCost cost, int64_t block_columns);
  /// A given cost matrix [B, n, m] (no points behind it).
  explicit CostBlocks(const torch::Tensor& matrix);
  int64_t count() const { return static_cast<int64_t>(starts_.size()); }
  int64_t start(int64_t k) const { return starts_[k]; }
  int64_t width(int64_t k) const;
  bool whole() const { return whole_.defined(); }
  /// C[:, :, start(k) : start(k) + width(k)].
  torch::Tensor block(int64_t k) const;
  /// The whole matrix; only when whole().
  const torch::Tensor& matrix() const { return whole_; }
  const torch::Tensor& x() const { return x_; }
  const torch::Tensor& y() const { return y_; }
  GroundCost cost() const { return cost_; }

 private:
  torch::Tensor x_, y_, whole_;
  GroundCost cost_ = GroundCost::squared_euclidean;
  int64_t columns_ = 0;
  std::vector<int64_t> starts_;
};

/// The marginals and transport cost of a plan, in float64.
struct PlanSums {
  torch::Tensor rows;       ///< [B, n]
  torch::Tensor columns;    ///< [B, m]
  torch::Tensor transport;  ///< <P, C> [B]
};

/// Sinkhorn's half-steps at the current eps, on potentials (cost units):
///   rows(g)_i = -eps log sum_j b_j exp((g_j - C_ij) / eps)     [B, m] -> [B, n]
///   cols(f)_j = -eps log sum_i a_i exp((f_i - C_ij) / eps)     [B, n] -> [B, m]
/// Exact log-sum-exp over the blocks in general. When the whole matrix is held,
/// the steps are matrix-vector products with a stabilised kernel
/// K = exp((f0 + g0 - C) / eps) instead (Schmitzer's absorption): one exp pass
/// whenever the potentials drift more than a few units of eps from (f0, g0), so
/// most steps cost a BLAS product, not an exp per entry. Both give the same
/// iterates up to rounding.
class Softmin {
 public:
  Softmin(const CostBlocks& costs, torch::Tensor log_a, torch::Tensor log_b);
  /// A new eps, with the potentials the next half-step starts from.
  void set_eps(double eps, const torch::Tensor& f, const torch::Tensor& g);
  double eps() const { return eps_; }
  torch::Tensor rows(const torch::Tensor& g);
  torch::Tensor cols(const torch::Tensor& f);
  /// Whether the last rows() or cols() came out finite (checked once, where it was computed).
  bool finite() const { return finite_; }
  /// The sums of the plan of (f, g) from the held kernel, P = diag(u) K diag(v) with u = a exp((f - f0) / eps)
  /// and v = b exp((g - g0) / eps): two matrix-vector products and one pass over K C, no exp pass. Only
  /// in float64 (in float32 the rounding of f + g - C at small eps is what the caller checks for, and
  /// the kernel shares it); false when no kernel is held or the potentials have drifted from it.
  bool kernel_plan_sums(const torch::Tensor& f, const torch::Tensor& g, PlanSums& out) const;
  /// log P for the potentials, block k: log a_i + log b_j + (f_i + g_j - C_ij) / eps.
  torch::Tensor log_plan_block(const torch::Tensor& f, const torch::Tensor& g, int64_t k) const;

 private:
  torch::Tensor exact_rows(const torch::Tensor& g) const;
  torch::Tensor exact_cols(const torch::Tensor& f) const;
  void stabilise(const torch::Tensor& f, const torch::Tensor& g);
  bool drifted(const torch::Tensor& shift) const;

  const CostBlocks& costs_;
  torch::Tensor log_a_, log_b_, a_, b_;
  double eps_ = 1.0;
  // Kernel state (whole matrix only).
  torch::Tensor f0_, g0_, kernel_;
  double max_shift_;
  bool finite_ = true;
};

}  // namespace flowlab::ot::detail
