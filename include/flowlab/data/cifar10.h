#pragma once
// CIFAR-10, binary version, registered as "cifar10". Nothing is downloaded: `dir` is the
// folder holding the files of cifar-10-binary.tar.gz (its cifar-10-batches-bin folder).
//
//   type: cifar10
//   dir: /data/cifar-10-batches-bin   # required
//   split: train                      # train: data_batch_1..5.bin (50000) | test: test_batch.bin (10000)
//   pixel_range: minus_one_to_one     # [-1, 1] | zero_to_one: [0, 1]
//   classes: []                       # keep only these labels (0..9); [] keeps all
//   augment: {hflip: false}           # random left-right flips of training draws
//
// Each record is 3073 bytes: the label (0..9), then the 1024 red, 1024 green and 1024 blue
// bytes of a 32x32 image, rows top to bottom. A file may hold any whole number of records.
// Images are [3, 32, 32]; labels keep their values 0..9 (num_classes() is 10 for any subset).
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/image_augment.h"
#include "flowlab/data/image_dataset.h"

namespace flowlab::data {

/// Reads one CIFAR-10 binary file: pixels uint8 [N, 3, 32, 32] and labels [N]. A missing
/// file, a size that is not a whole number of records or a label above 9 throws Error
/// naming the file.
StoredImages read_cifar10_file(const std::string& path);

struct Cifar10Options {
  std::string dir;
  bool train = true;
  bool zero_to_one = false;  ///< pixels in [0, 1] instead of [-1, 1]
  std::vector<int64_t> classes;
  ImageAugmentOptions augment;
  static Cifar10Options read(config::Node& node);
  /// Files of the chosen split, in reading order.
  std::vector<std::string> files() const;
};

class Cifar10 : public ImageDataset {
 public:
  static constexpr int64_t kSide = 32;
  static constexpr int64_t kChannels = 3;
  static constexpr int64_t kClasses = 10;
  static constexpr int64_t kRecordBytes = 1 + kChannels * kSide * kSide;

  explicit Cifar10(const Cifar10Options& options);
};

}  // namespace flowlab::data
