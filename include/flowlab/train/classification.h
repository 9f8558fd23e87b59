#pragma once
// Scores of a classifier's predictions: top-1 accuracy, negative log-likelihood and expected
// calibration error.
#include <torch/types.h>

#include <cstdint>

namespace flowlab::train {

struct ClassificationScores {
  double accuracy = 0.0;  ///< share of points whose largest logit is their label
  double nll = 0.0;       ///< mean -log softmax(logits)[label], nats
  double ece = 0.0;       ///< expected calibration error (below)
  int64_t points = 0;
};

/// ECE (Guo et al. 2017) with `bins` equal-width confidence bins: confidence c = max softmax
/// probability, point i in bin b = ceil(c_i bins) - 1 (so (b/bins, (b+1)/bins], c = 0 in bin 0),
/// ECE = sum_b (n_b / N) |accuracy_b - mean confidence_b|. probabilities [N, K], labels [N].
double expected_calibration_error(const torch::Tensor& probabilities, const torch::Tensor& labels, int64_t bins = 15);

/// All three from logits [N, K] and int64 labels [N] (computed in float64).
ClassificationScores classification_scores(const torch::Tensor& logits, const torch::Tensor& labels, int64_t bins = 15);

/// Cross-entropy of logits [B, K] to int64 labels [B], with label smoothing s: the target puts
/// 1 - s on the label and s / K on every class (PyTorch's CrossEntropyLoss(label_smoothing=s)).
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing = 0.0);

}  // namespace flowlab::train
