#pragma once
// PNG figures through stb_image_write: 2-D point clouds as density images.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace flowlab::io {

/// An 8-bit RGB image, row-major.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  ///< width * height * 3
};

/// Writes `image` as PNG, atomically.
void write_png(const std::string& path, const Image& image);

/// The panels left to right, with a thin grey separator between them; shorter panels are padded
/// with white at the bottom.
Image side_by_side(const std::vector<Image>& panels);

/// Density image (2-D histogram, log-scaled colour map) of points [N, 2] over
/// the square [lo, hi]^2.
Image density_image(const torch::Tensor& points, double lo, double hi, int pixels);

/// The figure `flowlab sample --plot` writes: data (left) beside model samples
/// (right), both [N, >=2] (the first two coordinates are drawn), on a shared
/// square range that covers both clouds.
void plot_samples_beside_data(const std::string& path, const torch::Tensor& samples,
                              const torch::Tensor& data, int pixels = 384);

}  // namespace flowlab::io
