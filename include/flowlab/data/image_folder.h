#pragma once
// Images from a folder of PNG, JPEG and BMP files, registered as "image_folder".
//
//   type: image_folder
//   path: data/faces          # required
//   size: [64, 64]            # required: [H, W], or one integer for a square
//   channels: 3               # 3: RGB | 1: grey (stb_image converts either way)
//   fit: center_crop          # center_crop | resize
//   split: all                # all | train | test
//   test_fraction: 0.1        # share of the files in split test
//   pixel_range: minus_one_to_one   # [-1, 1] | zero_to_one: [0, 1]
//   classes: []               # keep only these labels; [] keeps all
//   augment: {hflip: false}   # random left-right flips of training draws
//
// Layout, as torchvision's ImageFolder: the sub-folders of `path` are the classes, sorted by
// name (byte-wise), label = index, with their images found at any depth below them; or, with
// no sub-folders, the images directly in `path` are unlabelled (num_classes() 0). Images
// beside class folders are a config error. Files ending .png .jpg .jpeg .bmp (any case) are
// images; other files, and names starting with '.', are ignored.
//
// Files are decoded once, at construction, and resampled to H x W with torch's antialiased
// bilinear interpolation (antialias=true, align_corners=false: Pillow's filter when shrinking,
// plain bilinear when enlarging), then rounded back to bytes.
//   center_crop: scale so that the image covers H x W with one side exact (for a square, the
//                shorter side; the other side's length truncated), then cut out the centre,
//                offsets rounded half to even: torchvision's Resize + CenterCrop.
//   resize:      stretch to H x W.
// An image already H x W is kept exactly.
//
// Split rule: the files, ordered by label and then by path, are numbered i = 0, 1, ...; file
// i is in split test when floor((i + 1) * f) > floor(i * f) for f = test_fraction, else in
// train. Test files are spread evenly over the list and number exactly floor(N * f).
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/image_augment.h"
#include "flowlab/data/image_dataset.h"

namespace flowlab::data {

enum class ImageFit { kCenterCrop, kResize };

/// uint8 [C, h, w] -> uint8 [C, height, width] by `fit`, as described above.
torch::Tensor fit_image(const torch::Tensor& pixels, int64_t height, int64_t width, ImageFit fit);

/// Whether file i (0-based, in label-then-path order) is in split test under the rule above.
bool in_test_split(int64_t i, double test_fraction);

/// The image files of a folder: class names (empty for unlabelled data) and the files in
/// split order, each with its label (-1 when unlabelled).
struct ImageFolderListing {
  struct File {
    std::string path;
    int64_t label = -1;
  };
  std::vector<std::string> class_names;
  std::vector<File> files;
};

/// Lists `path` as described above. A missing folder, one with no images, a class folder
/// with no images and images beside class folders throw ConfigError naming the folder.
ImageFolderListing list_image_folder(const std::string& path);

struct ImageFolderOptions {
  enum class Split { kAll, kTrain, kTest };
  std::string path;
  int64_t height = 0, width = 0;
  int64_t channels = 3;
  ImageFit fit = ImageFit::kCenterCrop;
  Split split = Split::kAll;
  double test_fraction = 0.1;
  bool zero_to_one = false;  ///< pixels in [0, 1] instead of [-1, 1]
  std::vector<int64_t> classes;
  ImageAugmentOptions augment;
  static ImageFolderOptions read(config::Node& node);
};

class ImageFolder : public ImageDataset {
 public:
  explicit ImageFolder(const ImageFolderOptions& options);
  /// Sub-folder names, index = label (empty for unlabelled data).
  const std::vector<std::string>& class_names() const { return class_names_; }
  /// The file of each stored image, in stored order.
  const std::vector<std::string>& files() const { return files_; }

 private:
  ImageFolder(const ImageFolderOptions& options, ImageFolderListing listing);
  std::vector<std::string> class_names_, files_;
};

}  // namespace flowlab::data
