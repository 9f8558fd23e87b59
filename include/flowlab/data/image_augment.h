#pragma once
// Random augmentation of image training batches, one mechanism for every image dataset:
//
//   augment:
//     hflip: false    # mirror each drawn image left-right with probability 1/2
//
// Datasets apply it in sample() only (training draws), never in rows(): held-out and
// evaluation points stay as stored. Each flip is a draw from the batch's generator, made
// after the indices, so a seeded run stays reproducible; with nothing enabled nothing is
// drawn, so the stream is exactly that of a dataset without augmentation.
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "flowlab/config/node.h"

namespace flowlab::data {

struct ImageAugmentOptions {
  bool hflip = false;
  bool any() const { return hflip; }
  /// Reads the `augment` section of a dataset's node.
  static ImageAugmentOptions read(config::Node& dataset_node);
};

/// `images` [B, C, H, W] (any dtype) with the enabled augmentations, drawn from `gen`.
torch::Tensor augment_images(const torch::Tensor& images, const ImageAugmentOptions& options, at::Generator& gen);

/// `images` [B, C, H, W] with images[i] mirrored along the width axis where flip[i] (bool [B]).
torch::Tensor flip_horizontally_where(const torch::Tensor& images, const torch::Tensor& flip);

}  // namespace flowlab::data
