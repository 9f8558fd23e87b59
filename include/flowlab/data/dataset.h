#pragma once
// Datasets: anything that yields batches of samples [B, ...] from a seeded
// generator. Finite datasets draw indices with replacement, so sampling is an
// endless stream whose only state is the generator's.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/registry.h"

namespace flowlab::data {

/// A batch: samples and, for labelled data, int64 labels [B] (undefined otherwise).
struct Batch {
  torch::Tensor x;
  torch::Tensor label;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Shape of one sample, e.g. {2} or {1, 28, 28}.
  virtual std::vector<int64_t> sample_shape() const = 0;
  /// `n` samples as float32 on the CPU, drawn with `gen` (a CPU generator).
  virtual Batch sample(int64_t n, at::Generator& gen) const = 0;
  /// Number of classes for labelled data, 0 otherwise.
  virtual int64_t num_classes() const { return 0; }
  /// Points of a finite dataset (a file, a split); 0 for an endless stream (toy sets, mixtures).
  virtual int64_t size() const { return 0; }
  /// Points begin .. end - 1 in their stored order (finite datasets), as sample() gives them.
  virtual Batch rows(int64_t begin, int64_t end) const;
  /// The spacing of the values a coordinate takes, for quantised data (8-bit images: 1/127.5 in
  /// [-1, 1], 1/255 in [0, 1]); 0 for continuous data. Likelihoods dequantise by it.
  virtual double quantisation_step() const { return 0.0; }
};

/// A distribution with a closed-form density: the oracle of many tests.
class AnalyticDensity {
 public:
  virtual ~AnalyticDensity() = default;
  /// log p(x) for x [B, d] -> [B].
  virtual torch::Tensor log_prob(const torch::Tensor& x) const = 0;
  /// grad_x log p(x) for x [B, d] -> [B, d].
  virtual torch::Tensor score(const torch::Tensor& x) const = 0;
};

/// The "data" family (also used for the "source" section's dataset sources).
Registry<Dataset>& dataset_registry();
void register_builtin_datasets();

/// Points of given classes: row i is a draw of class labels[i] (labels int64 [n], each in
/// [0, num_classes), or kNullClass for a draw of any class). Draws batches from `gen` and keeps
/// points of the classes still wanted; throws Error when a class stays short after many draws.
torch::Tensor sample_of_classes(const Dataset& data, const torch::Tensor& labels, at::Generator& gen);

/// Stored rows of given classes, without randomness: row i is the next unused stored point of
/// class labels[i] (kNullClass: the next unused point of any class), in stored order, cycling
/// through a class's points when more are asked for than it has. A finite dataset only.
torch::Tensor rows_of_classes(const Dataset& data, const torch::Tensor& labels);

/// The config of a dataset's held-out test split: `data_node` with split: test, for the
/// datasets that have one (fashion_mnist, cifar10, image_folder); nullopt for the others.
std::optional<config::Node> test_split_config(const config::Node& data_node);

/// A CPU generator seeded with `seed`.
at::Generator make_generator(uint64_t seed);

}  // namespace flowlab::data
