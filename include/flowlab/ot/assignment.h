#pragma once
// Exact optimal transport between equal-size point sets: the optimal assignment.
#include <torch/types.h>

#include "flowlab/ot/ground_cost.h"

namespace flowlab::ot {

/// The assignment minimising sum_i cost[i, col_i] over distinct columns, for a
/// finite cost [n, m] with n <= m (or a batch [B, n, m]): the column of each row,
/// int64 [n] ([B, n]). Jonker and Volgenant's method (LAPJV, Computing 38, 1987)
/// in float64 on the CPU: for a square cost, column reduction and reduction
/// transfer give initial column prices and a partial assignment; then two
/// passes of augmenting row reduction (auction-like steps, bounded in number so
/// near-ties cannot make them run on) assign most rows; the rows still free are
/// added by shortest augmenting paths (Dijkstra under the reduced costs with JV's
/// scan lists). A rectangular cost (n < m) starts from zero prices, which stay
/// <= 0 and zero on the unassigned columns. Worst case O(n^2 m), typically far
/// less; exact (dual feasible with complementary slackness, up to float64
/// rounding), so ties aside it equals scipy.optimize.linear_sum_assignment.
torch::Tensor optimal_assignment(const torch::Tensor& cost);

struct ExactTransport {
  torch::Tensor assignment;  ///< [n] or [B, n]: y index matched to each x
  torch::Tensor cost;        ///< [] or [B]: (1/n) sum_i c(x_i, y_assignment_i), float64
};

/// W_c between the uniform empirical measures of x [n, d] and y [n, d] (or
/// batches [B, n, d]): for equal sizes an optimal plan is a permutation
/// (Birkhoff), so this equals POT's ot.emd2 with uniform weights.
ExactTransport exact_transport(const torch::Tensor& x, const torch::Tensor& y,
                               GroundCost cost = GroundCost::squared_euclidean);

}  // namespace flowlab::ot
