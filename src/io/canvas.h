#pragma once
// A white RGB canvas with filled rectangles and thick lines: what line_plot.cpp and
// field_plot.cpp draw with (private to src/io).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "flowlab/io/plot.h"

namespace flowlab::io {

using Rgb = std::array<uint8_t, 3>;

struct Canvas {
  Image image;
  Canvas(int width, int height) {
    image.width = width, image.height = height;
    image.rgb.assign(static_cast<std::size_t>(width) * height * 3, 255);
  }
  void set(int x, int y, const Rgb& c) {
    if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
    const std::size_t at = (static_cast<std::size_t>(y) * image.width + x) * 3;
    image.rgb[at] = c[0], image.rgb[at + 1] = c[1], image.rgb[at + 2] = c[2];
  }
  // Pixels whose centres lie in [x0, x1) x [y0, y1).
  void fill(double x0, double y0, double x1, double y1, const Rgb& c) {
    for (int y = static_cast<int>(std::ceil(y0 - 0.5)); y + 0.5 < y1; ++y) {
      for (int x = static_cast<int>(std::ceil(x0 - 0.5)); x + 0.5 < x1; ++x) set(x, y, c);
    }
  }
  void line(double x0, double y0, double x1, double y1, const Rgb& c, double width = 1.0) {
    const double length = std::hypot(x1 - x0, y1 - y0);
    const int steps = std::max(1, static_cast<int>(std::ceil(length * 2)));
    const double half = 0.5 * width;
    for (int i = 0; i <= steps; ++i) {
      const double u = static_cast<double>(i) / steps;
      const double x = x0 + u * (x1 - x0), y = y0 + u * (y1 - y0);
      fill(x - half, y - half, x + half, y + half, c);
    }
  }
};

}  // namespace flowlab::io
