#include "flowlab/data/image_dataset.h"

#include <torch/torch.h>

#include <set>
#include <sstream>

#include "flowlab/core/error.h"

namespace flowlab::data {

bool read_zero_to_one(config::Node& node) {
  return node.get_choice("pixel_range", "minus_one_to_one", {"minus_one_to_one", "zero_to_one"},
                         "pixels scaled to [-1, 1] or [0, 1]") == "zero_to_one";
}

PixelRange pixel_range_of(const config::Node& data_node) {
  config::Node copy = data_node.clone();
  const std::string name = copy.has("pixel_range") ? copy.get<std::string>("pixel_range", "") : "";
  if (name == "zero_to_one") return PixelRange{name, 0.0, 1.0};
  return PixelRange{"minus_one_to_one", -1.0, 1.0};
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
                      images.labels.index_select(0, index).contiguous()};
}

ImageDataset::ImageDataset(std::string name, ImageLayout layout, std::function<StoredImages()> load,
                           bool zero_to_one, ImageAugmentOptions augment)
    : name_(std::move(name)),
      layout_(layout),
      load_(std::move(load)),
      zero_to_one_(zero_to_one),
      augment_(augment) {}

const StoredImages& ImageDataset::stored() const {
  // A load that throws leaves the flag unset: the next use tries again and reports the same error.
  std::call_once(loaded_, [this] {
    StoredImages images = load_();
    if (!images.pixels.defined()) throw Error(name_ + ": read no images");
    const std::vector<int64_t> expected{layout_.channels, layout_.height, layout_.width};
    if (images.pixels.dim() != 4 || images.pixels.scalar_type() != torch::kUInt8 ||
        images.pixels.sizes().slice(1).vec() != expected) {
      std::ostringstream read;
      read << images.pixels.scalar_type() << " " << images.pixels.sizes();
      throw Error(name_ + ": expected uint8 images [N, " + std::to_string(layout_.channels) + ", " +
                  std::to_string(layout_.height) + ", " + std::to_string(layout_.width) + "], read " + read.str());
    }
    if (images.pixels.size(0) == 0) throw Error(name_ + ": no images of the chosen split and classes");
    images.pixels = images.pixels.contiguous();
    if (images.labels.defined()) images.labels = images.labels.to(torch::kInt64).contiguous();
    stored_ = std::move(images);
  });
  return stored_;
}

std::vector<int64_t> ImageDataset::sample_shape() const {
  if (layout_.flat) return {layout_.channels * layout_.height * layout_.width};
  return {layout_.channels, layout_.height, layout_.width};
}

torch::Tensor ImageDataset::to_float(const torch::Tensor& pixels) const {
  const torch::Tensor x = pixels_to_float(pixels, zero_to_one_);
  if (layout_.flat) return x.reshape({-1, layout_.channels * layout_.height * layout_.width});
  return x.reshape({-1, layout_.channels, layout_.height, layout_.width});
}

Batch ImageDataset::sample(int64_t n, at::Generator& gen) const {
  TORCH_CHECK(n >= 0, name_, ": cannot draw ", n, " samples");
  const StoredImages& images = stored();
  const torch::Tensor index = torch::randint(0, size(), {n}, gen, torch::TensorOptions().dtype(torch::kInt64));
  // Augmenting the uint8 pixels moves a quarter of the bytes float32 would.
  const torch::Tensor pixels = augment_images(images.pixels.index_select(0, index), augment_, gen);
  Batch batch{to_float(pixels), torch::Tensor()};
  if (images.labels.defined()) batch.label = images.labels.index_select(0, index);
  return batch;
}

Batch ImageDataset::rows(int64_t begin, int64_t end) const {
  TORCH_CHECK(0 <= begin && begin <= end && end <= size(), name_, ": rows ", begin, "..", end, " of ", size());
  const StoredImages& images = stored();
  Batch batch{to_float(images.pixels.slice(0, begin, end)), torch::Tensor()};
  if (images.labels.defined()) batch.label = images.labels.slice(0, begin, end);
  return batch;
}

}  // namespace flowlab::data
