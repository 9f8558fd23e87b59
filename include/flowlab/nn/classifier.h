#pragma once
// Classifiers: networks from x [B, ...] to class logits [B, K] (the "classifiers" family, the
// `model:` section of task: classifier). They are what the classifier task trains and what
// distillation and image metrics load as teachers and feature extractors.
//
//   mlp: flatten(x) -> hidden layers (activation, dropout) -> K logits
//   cnn: image-shaped x [B, C, H, W]; per entry of `channels`: conv 3x3 -> norm -> ReLU,
//        twice, then 2x2 max pooling; then flatten -> dropout -> linear(hidden) -> ReLU ->
//        dropout -> K logits. norm: batch, group (`groups` groups) or none.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/registry.h"
#include "flowlab/nn/network.h"

namespace flowlab::nn {

class Classifier : public torch::nn::Module {
 public:
  explicit Classifier(int64_t num_classes) : num_classes_(num_classes) {}
  /// Logits [B, num_classes()] of x [B, ...].
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  /// The penultimate layer [B, F] of x (what the last linear layer reads, before its dropout):
  /// the feature space of image metrics (eval.features).
  virtual torch::Tensor features(const torch::Tensor& x) = 0;
  int64_t num_classes() const { return num_classes_; }

 private:
  int64_t num_classes_;
};

struct MlpClassifierOptions {
  std::vector<int64_t> hidden{256, 256};
  std::string activation = "relu";
  double dropout = 0.0;
  static MlpClassifierOptions read(config::Node& node);
};

struct CnnClassifierOptions {
  std::vector<int64_t> channels{32, 64};  ///< widths of the conv stages (each halves H and W)
  std::string norm = "batch";             ///< batch | group | none
  int64_t groups = 8;                     ///< group norm: groups per layer (must divide each width)
  int64_t hidden = 128;                   ///< width of the dense layer before the logits
  double dropout = 0.25;
  static CnnClassifierOptions read(config::Node& node);
};

/// The "classifiers" family: built from a `model:` section for samples of `shape` and K classes.
Registry<Classifier, const SampleShape&, int64_t>& classifier_registry();
void register_builtin_classifiers();

}  // namespace flowlab::nn
