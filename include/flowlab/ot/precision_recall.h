#pragma once
// Improved precision and recall (Kynkäänniemi et al. 2019): how much of a
// model's output is realistic, and how much of the data it covers.
#include <torch/types.h>

#include <cstdint>

namespace flowlab::ot {

/// Both numbers, and the counts behind them.
struct PrecisionRecall {
  double precision = 0.0;       ///< samples inside the data manifold / N
  double recall = 0.0;          ///< data points inside the sample manifold / M
  int64_t precise_samples = 0;  ///< the count behind precision
  int64_t recalled_data = 0;    ///< the count behind recall
};

/// How many of queries [N, ...] lie inside the k-NN manifold of reference
/// [M, ...] (trailing dimensions flattened to d): the union of the closed balls
/// around each reference point whose radius is the distance to its k-th
/// nearest other reference point (itself excluded, a duplicate included).
///
/// Distances are Euclidean, in the inputs' common dtype (integers: float32) on
/// the queries' device, as the other metrics' (exact differences for d <= 16, the
/// matrix-product form above). A query at a ball's radius up to that rounding
/// may count either way: counts can move by such near-ties only. Rows are
/// processed `chunk_rows` at a time, so memory stays at chunk_rows x M
/// distances. Needs M > k (throws flowlab::Error otherwise); no autograd.
int64_t count_in_manifold(const torch::Tensor& queries, const torch::Tensor& reference, int64_t k = 3,
                          int64_t chunk_rows = 1024);

/// precision = count_in_manifold(samples, data) / N: the fraction of model
/// samples that are realistic; recall = count_in_manifold(data, samples) / M:
/// the fraction of data points the model's samples cover. Both in [0, 1];
/// identical sets give 1 and 1. The metrics `precision` and `recall` compute
/// one half each; in a metric call measure(x, y), x are the model's samples
/// and y the data, as evaluation passes them. k = 3 is the paper's choice.
PrecisionRecall precision_recall(const torch::Tensor& samples, const torch::Tensor& data, int64_t k = 3,
                                 int64_t chunk_rows = 1024);

}  // namespace flowlab::ot
