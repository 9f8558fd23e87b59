#pragma once
// An 8-bit RGB raster: what density, curl and image-grid pictures are computed as before a
// figure (io/figure.h) draws them.
#include <array>
#include <cstdint>
#include <vector>

namespace flowlab::io {

using Rgb = std::array<uint8_t, 3>;

/// An 8-bit RGB image, row-major, row 0 at the top.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  ///< width * height * 3

  bool empty() const { return width <= 0 || height <= 0; }
  Rgb pixel(int x, int y) const {
    const std::size_t at = (static_cast<std::size_t>(y) * width + x) * 3;
    return {rgb[at], rgb[at + 1], rgb[at + 2]};
  }
};

}  // namespace flowlab::io
