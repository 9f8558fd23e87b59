#pragma once
// Fashion-MNIST from gzipped IDX files, registered as "fashion_mnist".
// Debian's dataset-fashion-mnist package installs them in
// /usr/share/datasets/fashion-mnist as {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
//
//   type: fashion_mnist
//   split: train            # train (60000 images) | test (10000)
//   shape: image            # image: [1, 28, 28] | flat: [784]
//   pixel_range: minus_one_to_one   # [-1, 1] | zero_to_one: [0, 1]
//   classes: []             # keep only these labels (0..9); [] keeps all
//   augment: {hflip: false} # random left-right flips of training draws (image_augment.h)
//
// Labels keep their original values 0..9 (num_classes() is 10 for any subset).
#include <torch/types.h>

#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/image_augment.h"
#include "flowlab/data/image_dataset.h"

namespace flowlab::data {

/// Reads an IDX file of unsigned bytes (magic 0x00 0x00 0x08 <rank>), gzipped or
/// not, into a uint8 tensor of the declared shape. Missing, truncated, corrupt or
/// over-long files throw Error naming the file.
torch::Tensor read_idx_ubyte(const std::string& path);

struct FashionMnistOptions {
  std::string dir = "/usr/share/datasets/fashion-mnist";
  bool train = true;
  bool flat = false;
  bool zero_to_one = false;  ///< pixels in [0, 1] instead of [-1, 1]
  std::vector<int64_t> classes;
  ImageAugmentOptions augment;
  static FashionMnistOptions read(config::Node& node);
  /// Files of the chosen split.
  std::string images_file() const;
  std::string labels_file() const;
};

class FashionMnist : public ImageDataset {
 public:
  static constexpr int64_t kSide = 28;
  static constexpr int64_t kClasses = 10;

  explicit FashionMnist(const FashionMnistOptions& options);
};

}  // namespace flowlab::data
