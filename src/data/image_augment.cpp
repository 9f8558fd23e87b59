#include "flowlab/data/image_augment.h"

#include <torch/torch.h>

namespace flowlab::data {

ImageAugmentOptions ImageAugmentOptions::read(config::Node& dataset_node) {
  config::Node node = dataset_node.section("augment", "random changes to training draws (sample), never to rows");
  ImageAugmentOptions o;
  o.hflip = node.get<bool>("hflip", o.hflip, "mirror each drawn image left-right with probability 1/2");
  return o;
}

torch::Tensor flip_horizontally_where(const torch::Tensor& images, const torch::Tensor& flip) {
  TORCH_CHECK(images.dim() == 4, "horizontal flip: expected images [B, C, H, W], got shape ", images.sizes());
  TORCH_CHECK(flip.dim() == 1 && flip.size(0) == images.size(0) && flip.scalar_type() == torch::kBool,
              "horizontal flip: expected a bool mask [", images.size(0), "]");
  return torch::where(flip.view({-1, 1, 1, 1}), images.flip({3}), images);
}

torch::Tensor augment_images(const torch::Tensor& images, const ImageAugmentOptions& options, at::Generator& gen) {
  if (!options.hflip) return images;
  const torch::Tensor coin = torch::randint(0, 2, {images.size(0)}, gen, torch::TensorOptions().dtype(torch::kInt64));
  return flip_horizontally_where(images, coin == 1);
}

}  // namespace flowlab::data
