#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/data/condition.h"
#include "flowlab/data/dataset.h"

namespace flowlab::data {

Batch Dataset::rows(int64_t, int64_t) const {
  throw Error("this dataset is an endless stream of draws; it has no stored rows");
}

torch::Tensor sample_of_classes(const Dataset& data, const torch::Tensor& labels, at::Generator& gen) {
  TORCH_CHECK(labels.dim() == 1 && labels.scalar_type() == torch::kLong, "sample_of_classes: labels must be int64 [n]");
  const int64_t n = labels.size(0);
  const int64_t classes = data.num_classes();
  const torch::Tensor wanted_labels = labels.cpu();
  if (n == 0 || (wanted_labels < 0).all().item<bool>()) return data.sample(n, gen).x;
  TORCH_CHECK(classes > 0, "sample_of_classes: the data has no labels");
  TORCH_CHECK(wanted_labels.max().item<int64_t>() < classes && wanted_labels.min().item<int64_t>() >= kNullClass,
              "sample_of_classes: labels must lie in [0, ", classes, ") or be ", kNullClass);
  // Rows still to fill, per class (the last list: rows of any class).
  std::vector<std::vector<int64_t>> open(static_cast<std::size_t>(classes + 1));
  const auto* wanted = wanted_labels.data_ptr<int64_t>();
  for (int64_t i = n - 1; i >= 0; --i) open[wanted[i] < 0 ? classes : wanted[i]].push_back(i);
  std::vector<int64_t> rows, picks;
  std::vector<torch::Tensor> parts;
  int64_t remaining = n;
  constexpr int rounds = 1000;  // a class of weight 1e-3 of the data still fills
  const int64_t draw = std::max<int64_t>(n, 1024);
  for (int round = 0; round < rounds && remaining > 0; ++round) {
    const Batch batch = data.sample(draw, gen);
    const torch::Tensor got = batch.label.cpu().contiguous();
    const auto* label = got.data_ptr<int64_t>();
    std::vector<int64_t> take;
    for (int64_t j = 0; j < draw && remaining > 0; ++j) {
      auto& list = !open[label[j]].empty() ? open[label[j]] : open[classes];
      if (list.empty()) continue;
      rows.push_back(list.back());
      list.pop_back();
      take.push_back(j);
      --remaining;
    }
    if (!take.empty()) parts.push_back(batch.x.index_select(0, torch::tensor(take, torch::kLong)));
  }
  if (remaining > 0) {
    throw Error("cannot draw " + std::to_string(remaining) + " more data points of the classes asked for: some class " +
                "is (nearly) absent from the data");
  }
  const torch::Tensor drawn = torch::cat(parts);
  torch::Tensor out = torch::empty_like(drawn);
  out.index_copy_(0, torch::tensor(rows, torch::kLong), drawn);
  return out;
}

torch::Tensor rows_of_classes(const Dataset& data, const torch::Tensor& labels) {
  TORCH_CHECK(labels.dim() == 1 && labels.scalar_type() == torch::kLong, "rows_of_classes: labels must be int64 [n]");
  const int64_t size = data.size();
  if (size == 0) throw Error("rows_of_classes: the dataset is an endless stream; it has no stored rows");
  const Batch all = data.rows(0, size);
  const int64_t classes = data.num_classes();
  // Stored rows per class, in order (the last list: every row, for the null class).
  std::vector<std::vector<int64_t>> rows_of(static_cast<std::size_t>(classes + 1));
  if (classes > 0) {
    const torch::Tensor stored = all.label.cpu().contiguous();
    const auto* label = stored.data_ptr<int64_t>();
    for (int64_t r = 0; r < size; ++r) rows_of[label[r]].push_back(r);
  }
  for (int64_t r = 0; r < size; ++r) rows_of[classes].push_back(r);
  const torch::Tensor wanted_labels = labels.cpu().contiguous();
  const auto* wanted = wanted_labels.data_ptr<int64_t>();
  std::vector<std::size_t> used(rows_of.size(), 0);
  std::vector<int64_t> picks;
  picks.reserve(static_cast<std::size_t>(labels.size(0)));
  for (int64_t i = 0; i < labels.size(0); ++i) {
    const int64_t k = wanted[i] < 0 ? classes : wanted[i];
    if (wanted[i] >= classes || wanted[i] < kNullClass) {
      throw Error("rows_of_classes: label " + std::to_string(wanted[i]) + " is not a class of the data (" +
                  std::to_string(classes) + " classes)");
    }
    const auto& list = rows_of[k];
    if (list.empty()) throw Error("rows_of_classes: the data has no point of class " + std::to_string(k));
    picks.push_back(list[used[k]++ % list.size()]);
  }
  return all.x.index_select(0, torch::tensor(picks, torch::kLong));
}

}  // namespace flowlab::data
