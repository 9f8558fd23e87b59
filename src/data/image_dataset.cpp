#include "flowlab/data/image_dataset.h"

#include <torch/torch.h>

#include <set>

#include "flowlab/core/error.h"

namespace flowlab::data {

bool read_zero_to_one(config::Node& node) {
  return node.get_choice("pixel_range", "minus_one_to_one", {"minus_one_to_one", "zero_to_one"},
                         "pixels scaled to [-1, 1] or [0, 1]") == "zero_to_one";
}

std::vector<int64_t> read_class_subset(config::Node& node, int64_t num_classes, const std::string& doc) {
  const std::vector<int64_t> classes = node.get<std::vector<int64_t>>("classes", {}, doc);
  std::set<int64_t> seen;
  for (int64_t c : classes) {
    node.expect(c >= 0 && c < num_classes, "classes", "labels between 0 and " + std::to_string(num_classes - 1));
    node.expect(seen.insert(c).second, "classes", "distinct labels");
  }
  return classes;
}

torch::Tensor pixels_to_float(const torch::Tensor& pixels, bool zero_to_one) {
  const torch::Tensor x = pixels.to(torch::kFloat32) / 255.0f;
  // 2 * (p / 255) rounds exactly as p / 127.5 does: doubling is exact in binary.
  return zero_to_one ? x : x * 2.0f - 1.0f;
}

StoredImages keep_classes(const StoredImages& images, const std::vector<int64_t>& classes) {
  if (classes.empty()) return images;
  TORCH_CHECK(images.labels.defined(), "classes: unlabelled images have no classes to keep");
  torch::Tensor keep = torch::zeros_like(images.labels, torch::kBool);
  for (int64_t c : classes) keep = keep | (images.labels == c);
  const torch::Tensor index = keep.nonzero().squeeze(1);
  return StoredImages{images.pixels.index_select(0, index).contiguous(),
                      images.labels.index_select(0, index).contiguous(), images.num_classes};
}

ImageDataset::ImageDataset(std::string name, StoredImages stored, bool zero_to_one, ImageAugmentOptions augment)
    : name_(std::move(name)), stored_(std::move(stored)), zero_to_one_(zero_to_one), augment_(augment) {
  TORCH_CHECK(stored_.pixels.dim() == 4 && stored_.pixels.scalar_type() == torch::kUInt8,
              name_, ": expected uint8 images [N, C, H, W]");
  if (stored_.pixels.size(0) == 0) throw Error(name_ + ": no images of the chosen split and classes");
  stored_.pixels = stored_.pixels.contiguous();
  if (stored_.labels.defined()) stored_.labels = stored_.labels.to(torch::kInt64).contiguous();
}

std::vector<int64_t> ImageDataset::sample_shape() const {
  const auto sizes = stored_.pixels.sizes();
  return {sizes[1], sizes[2], sizes[3]};
}

Batch ImageDataset::sample(int64_t n, at::Generator& gen) const {
  TORCH_CHECK(n >= 0, name_, ": cannot draw ", n, " samples");
  const torch::Tensor index = torch::randint(0, size(), {n}, gen, torch::TensorOptions().dtype(torch::kInt64));
  // Augmenting the uint8 pixels moves a quarter of the bytes float32 would.
  const torch::Tensor pixels = augment_images(stored_.pixels.index_select(0, index), augment_, gen);
  Batch batch{to_float(pixels), torch::Tensor()};
  if (stored_.labels.defined()) batch.label = stored_.labels.index_select(0, index);
  return batch;
}

Batch ImageDataset::rows(int64_t begin, int64_t end) const {
  TORCH_CHECK(0 <= begin && begin <= end && end <= size(), name_, ": rows ", begin, "..", end, " of ", size());
  Batch batch{to_float(stored_.pixels.slice(0, begin, end)), torch::Tensor()};
  if (stored_.labels.defined()) batch.label = stored_.labels.slice(0, begin, end);
  return batch;
}

}  // namespace flowlab::data
