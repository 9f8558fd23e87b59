#pragma once
// A finite dataset read from a NumPy .npy file, registered as "npy".
//
//   type: npy
//   path: data/points.npy      # array [N, ...] of any numeric dtype
//   labels: data/labels.npy    # optional integer array [N] with values >= 0
//   standardize: false         # subtract the per-feature mean, divide by the std
//
// Samples are drawn uniformly with replacement; batches are float32 [B, ...].
#include <torch/types.h>

#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"

namespace flowlab::data {

struct NpyDatasetOptions {
  std::string path;
  std::string labels_path;  ///< "" for none
  bool standardize = false;
  static NpyDatasetOptions read(config::Node& node);
};

class NpyDataset : public Dataset {
 public:
  explicit NpyDataset(const NpyDatasetOptions& options);
  /// From tensors already in memory: data [N, ...], labels [N] integer or undefined.
  NpyDataset(const torch::Tensor& data, const torch::Tensor& labels, bool standardize);

  std::vector<int64_t> sample_shape() const override;
  Batch sample(int64_t n, at::Generator& gen) const override;
  int64_t num_classes() const override { return num_classes_; }

  int64_t size() const override { return data_.size(0); }
  Batch rows(int64_t begin, int64_t end) const override;
  /// The stored (possibly standardized) float32 data [N, ...].
  const torch::Tensor& data() const { return data_; }
  /// Per-feature mean and std used by standardize ([...] each), undefined otherwise.
  const torch::Tensor& feature_mean() const { return feature_mean_; }
  const torch::Tensor& feature_std() const { return feature_std_; }

 private:
  torch::Tensor data_, labels_, feature_mean_, feature_std_;
  int64_t num_classes_ = 0;
};

}  // namespace flowlab::data
