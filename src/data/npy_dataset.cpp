#include "flowlab/data/npy_dataset.h"

#include <torch/torch.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "flowlab/core/error.h"
#include "flowlab/io/npy.h"

namespace flowlab::data {
namespace {

// Fails on `key` unless `file` can be opened, so a wrong path is a config error with a line number.
void expect_readable(config::Node& node, const std::string& key, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) node.fail(key, "cannot open '" + file + "': " + std::strerror(errno));
}

}  // namespace

NpyDatasetOptions NpyDatasetOptions::read(config::Node& node) {
  NpyDatasetOptions o;
  o.path = node.require<std::string>("path", ".npy file holding an array [N, ...]");
  o.labels_path = node.get<std::string>("labels", "", ".npy file of integer labels [N] (>= 0); \"\" for none");
  o.standardize = node.get<bool>("standardize", false, "subtract the per-feature mean and divide by the std");
  if (node.describing()) return o;
  expect_readable(node, "path", o.path);
  if (!o.labels_path.empty()) expect_readable(node, "labels", o.labels_path);
  return o;
}

// The arrays' checks, with the files they came from named.
NpyDataset::NpyDataset(const NpyDatasetOptions& options) try
    : NpyDataset(io::read_npy(options.path),
                 options.labels_path.empty() ? torch::Tensor() : io::read_npy(options.labels_path),
                 options.standardize) {
} catch (const c10::Error& e) {
  throw Error(options.path + (options.labels_path.empty() ? "" : " with labels " + options.labels_path) + ": " +
              e.what_without_backtrace());
}

NpyDataset::NpyDataset(const torch::Tensor& data, const torch::Tensor& labels, bool standardize) {
  TORCH_CHECK(data.defined() && data.dim() >= 1 && data.size(0) > 0,
              "npy dataset: expected a non-empty array [N, ...], got shape ", data.defined() ? data.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(data.dtype() != torch::kBool && !data.is_complex(), "npy dataset: data must be numeric, got ", data.dtype());
  // A 1-D file is N scalar samples.
  data_ = (data.dim() == 1 ? data.unsqueeze(1) : data).to(torch::kCPU, torch::kFloat32).contiguous();
  TORCH_CHECK(torch::isfinite(data_).all().item<bool>(), "npy dataset: data contains NaN or infinite values");
  if (standardize) {
    const torch::Tensor data64 = data_.to(torch::kFloat64);
    const torch::Tensor mean = data64.mean(0);
    torch::Tensor std = (data64 - mean).square().mean(0).sqrt();
    // A constant feature has no spread to divide by; it is only centred.
    std = torch::where(std > 0, std, torch::ones_like(std));
    data_ = ((data64 - mean) / std).to(torch::kFloat32).contiguous();
    feature_mean_ = mean.to(torch::kFloat32);
    feature_std_ = std.to(torch::kFloat32);
  }
  if (labels.defined()) {
    TORCH_CHECK(labels.dim() == 1 && labels.size(0) == data_.size(0), "npy dataset: labels must be [N] = [",
                data_.size(0), "], got shape ", labels.sizes());
    TORCH_CHECK(!labels.is_floating_point() && !labels.is_complex() && labels.dtype() != torch::kBool,
                "npy dataset: labels must be integers, got ", labels.dtype());
    labels_ = labels.to(torch::kCPU, torch::kInt64).contiguous();
    TORCH_CHECK(labels_.min().item<int64_t>() >= 0, "npy dataset: labels must be >= 0, got ",
                labels_.min().item<int64_t>());
    num_classes_ = labels_.max().item<int64_t>() + 1;
  }
}

std::vector<int64_t> NpyDataset::sample_shape() const {
  return std::vector<int64_t>(data_.sizes().begin() + 1, data_.sizes().end());
}

Batch NpyDataset::sample(int64_t n, at::Generator& gen) const {
  TORCH_CHECK(n >= 0, "npy dataset: cannot draw ", n, " samples");
  const torch::Tensor index = torch::randint(0, size(), {n}, gen, torch::TensorOptions().dtype(torch::kInt64));
  Batch batch{data_.index_select(0, index), torch::Tensor()};
  if (labels_.defined()) batch.label = labels_.index_select(0, index);
  return batch;
}

Batch NpyDataset::rows(int64_t begin, int64_t end) const {
  TORCH_CHECK(0 <= begin && begin <= end && end <= size(), "npy dataset: rows ", begin, "..", end, " of ", size());
  Batch batch{data_.slice(0, begin, end), torch::Tensor()};
  if (labels_.defined()) batch.label = labels_.slice(0, begin, end);
  return batch;
}

}  // namespace flowlab::data
