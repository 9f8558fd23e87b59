#pragma once
// What the image datasets read from files (fashion_mnist, cifar10, image_folder) share: images
// kept as uint8 [N, C, H, W] (a quarter of float32's memory), turned into float32 per batch,
// read from their files on first use (sampling and evaluating a trained run need only the
// shape and the classes, not 50 MB of training images), with the keys every image dataset reads:
//
//   pixel_range: minus_one_to_one   # p / 127.5 - 1 in [-1, 1] | zero_to_one: p / 255 in [0, 1]
//   classes: []                     # keep only these labels; [] keeps all
//   augment: {hflip: false}         # see image_augment.h; training draws only
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"
#include "flowlab/data/image_augment.h"

namespace flowlab::data {

/// Reads `pixel_range`; true for zero_to_one.
bool read_zero_to_one(config::Node& node);

/// The pixel range a dataset config asks for, without reading its keys: `pixel_range` or its
/// default (also for data that has no such key).
struct PixelRange {
  std::string name;  ///< minus_one_to_one | zero_to_one
  double lo = -1.0, hi = 1.0;
};
PixelRange pixel_range_of(const config::Node& data_node);

/// Reads `classes` (documented by `doc`): distinct labels in [0, num_classes).
std::vector<int64_t> read_class_subset(config::Node& node, int64_t num_classes, const std::string& doc);

/// uint8 pixels (any shape) -> float32 in [-1, 1] (or [0, 1] with zero_to_one).
torch::Tensor pixels_to_float(const torch::Tensor& pixels, bool zero_to_one);

/// Decoded images: pixels uint8 [N, C, H, W], labels int64 [N] (undefined for unlabelled data).
struct StoredImages {
  torch::Tensor pixels;
  torch::Tensor labels;
};

/// The images whose label is one of `classes` ([] keeps all), in their stored order.
StoredImages keep_classes(const StoredImages& images, const std::vector<int64_t>& classes);

/// What an image dataset holds, known before its files are read.
struct ImageLayout {
  int64_t channels = 0, height = 0, width = 0;
  int64_t num_classes = 0;  ///< 0: unlabelled
  bool flat = false;        ///< samples are [C * H * W] vectors instead of [C, H, W] images
};

class ImageDataset : public Dataset {
 public:
  std::vector<int64_t> sample_shape() const override;
  /// Images with replacement, augmented, as float32, with their labels.
  Batch sample(int64_t n, at::Generator& gen) const override;
  int64_t num_classes() const override { return layout_.num_classes; }
  int64_t size() const override { return stored().pixels.size(0); }
  /// Stored images begin .. end - 1, never augmented.
  Batch rows(int64_t begin, int64_t end) const override;
  /// 8-bit pixels: 1/127.5 in [-1, 1], 1/255 in [0, 1].
  double quantisation_step() const override { return zero_to_one_ ? 1.0 / 255.0 : 1.0 / 127.5; }

  /// Raw pixels uint8 [N, C, H, W] and labels int64 [N] (undefined for unlabelled data).
  const torch::Tensor& images() const { return stored().pixels; }
  const torch::Tensor& labels() const { return stored().labels; }
  /// uint8 [B, C, H, W] -> float32 in the configured range and sample shape.
  torch::Tensor to_float(const torch::Tensor& pixels) const;

 protected:
  /// `name` (what and where, e.g. "cifar10 in DIR") prefixes errors. `load` reads the files, once,
  /// when pixels are first needed (from any thread); images that do not match `layout` or none
  /// at all are an Error then.
  ImageDataset(std::string name, ImageLayout layout, std::function<StoredImages()> load, bool zero_to_one,
               ImageAugmentOptions augment);

 private:
  const StoredImages& stored() const;

  std::string name_;
  ImageLayout layout_;
  std::function<StoredImages()> load_;
  mutable std::once_flag loaded_;
  mutable StoredImages stored_;
  bool zero_to_one_ = false;
  ImageAugmentOptions augment_;
};

}  // namespace flowlab::data
