#include "flowlab/train/classification.h"

#include <torch/torch.h>

namespace flowlab::train {

double expected_calibration_error(const torch::Tensor& probabilities, const torch::Tensor& labels, int64_t bins) {
  TORCH_CHECK(probabilities.dim() == 2 && labels.dim() == 1 && labels.size(0) == probabilities.size(0),
              "ece: probabilities [N, K] and labels [N] expected, got ", probabilities.sizes(), " and ", labels.sizes());
  TORCH_CHECK(bins >= 1, "ece: bins must be >= 1");
  const int64_t n = probabilities.size(0);
  if (n == 0) return 0.0;
  const torch::Tensor p = probabilities.detach().to(torch::kCPU, torch::kFloat64);
  const auto [confidence, predicted] = p.max(1);
  const torch::Tensor correct = (predicted == labels.to(torch::kCPU)).to(torch::kFloat64);
  const torch::Tensor bin = (torch::ceil(confidence * static_cast<double>(bins)) - 1).clamp(0, bins - 1).to(torch::kLong);
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor count = torch::zeros({bins}, options).index_add_(0, bin, torch::ones({n}, options));
  const torch::Tensor confidence_sum = torch::zeros({bins}, options).index_add_(0, bin, confidence);
  const torch::Tensor correct_sum = torch::zeros({bins}, options).index_add_(0, bin, correct);
  // sum_b (n_b / N) |acc_b - conf_b| = sum_b |correct_b - confidence_b| / N.
  return (correct_sum - confidence_sum).abs().sum().item<double>() / static_cast<double>(n);
}

ClassificationScores classification_scores(const torch::Tensor& logits, const torch::Tensor& labels, int64_t bins) {
  TORCH_CHECK(logits.dim() == 2 && labels.dim() == 1 && labels.size(0) == logits.size(0),
              "classification scores: logits [N, K] and labels [N] expected, got ", logits.sizes(), " and ",
              labels.sizes());
  ClassificationScores s;
  s.points = logits.size(0);
  if (s.points == 0) return s;
  const torch::Tensor z = logits.detach().to(torch::kCPU, torch::kFloat64);
  const torch::Tensor y = labels.to(torch::kCPU, torch::kLong);
  const torch::Tensor log_p = torch::log_softmax(z, 1);
  s.accuracy = (z.argmax(1) == y).to(torch::kFloat64).mean().item<double>();
  s.nll = -log_p.gather(1, y.unsqueeze(1)).mean().item<double>();
  s.ece = expected_calibration_error(log_p.exp(), y, bins);
  return s;
}

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing) {
  const torch::Tensor log_p = torch::log_softmax(logits, 1);
  const torch::Tensor nll = -log_p.gather(1, labels.unsqueeze(1)).squeeze(1);
  if (label_smoothing <= 0) return nll.mean();
  // Smoothed target: (1 - s) one-hot + s / K uniform.
  return ((1.0 - label_smoothing) * nll - label_smoothing * log_p.mean(1)).mean();
}

}  // namespace flowlab::train
