#pragma once
// The held-out data a classifier is scored on, and the scoring: shared by task: classifier and
// task: distill_classifier (and so by `flowlab eval` of both).
//
//   eval: {data: {...}, n: 10000, batch_size: 1000, bins: 15, use_ema: false}
//
// eval.data is the held-out set; without it, a dataset with a test split (fashion_mnist, cifar10,
// image_folder trained on split: train; data::test_split_config) is scored on it, and
// endless datasets (toy sets, mixtures) on fresh draws; a finite dataset without eval.data is a
// config error (its own points are not held out).
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"
#include "flowlab/nn/classifier.h"
#include "flowlab/train/classification.h"

namespace flowlab::train {

struct ClassifierEvalOptions {
  int64_t n = 10000;          ///< points scored: the first n of a finite held-out set, or fresh draws
  int64_t batch_size = 1000;  ///< points per forward pass
  int64_t bins = 15;          ///< ECE bins
  bool use_ema = false;       ///< score the EMA copy instead of the trained weights
};

class HeldOutData {
 public:
  /// From the `eval:` section, for training data `data` built from `data_node`.
  HeldOutData(config::Node& eval_node, config::Node& data_node, const data::Dataset& data);
  /// Logits [n, K] (on the CPU) of each classifier, in eval mode without gradients, on the same
  /// held-out points, and their labels [n]. `seed` fixes the draws of an endless dataset.
  std::pair<std::vector<torch::Tensor>, torch::Tensor> logits(const std::vector<nn::Classifier*>& classifiers,
                                                              uint64_t seed, torch::Device device) const;
  /// Accuracy, NLL and ECE of one classifier.
  ClassificationScores score(nn::Classifier& classifier, uint64_t seed, torch::Device device) const;
  const ClassifierEvalOptions& options() const { return options_; }

 private:
  const data::Dataset* data_;
  std::unique_ptr<data::Dataset> held_out_;
  ClassifierEvalOptions options_;
};

}  // namespace flowlab::train
