#include "flowlab/io/plot.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "flowlab/core/error.h"
#include "flowlab/io/atomic_file.h"

// Static linkage keeps stb's symbols private to this file, so another part of
// flowlab may use stb_image_write too without duplicate definitions.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace flowlab::io {
namespace {

using Rgb = std::array<uint8_t, 3>;

// matplotlib's "magma" sampled at 0, 1/8, ..., 1 and linearly interpolated: a
// perceptually uniform map from near-black (sparse) to pale yellow (dense).
constexpr std::array<Rgb, 9> kMagmaAnchors = {{
    {0, 0, 4},
    {29, 17, 71},
    {81, 18, 124},
    {131, 38, 129},
    {183, 55, 121},
    {231, 82, 99},
    {252, 137, 97},
    {254, 196, 136},
    {252, 253, 191},
}};
constexpr Rgb kEmpty = {0, 0, 0};
constexpr Rgb kSeparator = {128, 128, 128};
constexpr int kSeparatorWidth = 2;
// The least dense non-empty pixel starts this far up the colour map, so it stays
// visible against the black background.
constexpr double kFloorLevel = 0.2;

Rgb magma(double level) {
  level = std::clamp(level, 0.0, 1.0) * (kMagmaAnchors.size() - 1);
  const std::size_t below = std::min<std::size_t>(static_cast<std::size_t>(level), kMagmaAnchors.size() - 2);
  const double frac = level - static_cast<double>(below);
  Rgb out{};
  for (int c = 0; c < 3; ++c) {
    const double value = (1.0 - frac) * kMagmaAnchors[below][c] + frac * kMagmaAnchors[below + 1][c];
    out[c] = static_cast<uint8_t>(std::lround(value));
  }
  return out;
}

void check_points(const torch::Tensor& points, const char* what) {
  TORCH_CHECK(points.defined() && points.dim() == 2 && points.size(1) >= 2, what,
              ": expected points [N, >=2], got ", points.defined() ? points.sizes() : torch::IntArrayRef{});
}

// First two coordinates as CPU float64, rows with a non-finite value dropped.
torch::Tensor finite_xy(const torch::Tensor& points) {
  torch::Tensor xy = points.detach().narrow(1, 0, 2).to(torch::kCPU, torch::kFloat64);
  return xy.index({torch::isfinite(xy).all(1)});
}

// Shared square range [lo, hi]^2 covering the central 99% of each coordinate of
// the pooled clouds, padded by 5%: a few outliers do not shrink the picture.
std::pair<double, double> robust_range(const torch::Tensor& xy) {
  if (xy.size(0) == 0) return {-1.0, 1.0};
  const torch::Tensor sorted = std::get<0>(xy.sort(0));
  const int64_t n = sorted.size(0);
  const auto quantile_row = [&](double q) {
    return sorted[static_cast<int64_t>(std::llround(q * static_cast<double>(n - 1)))];
  };
  double lo = quantile_row(0.005).min().item<double>();
  double hi = quantile_row(0.995).max().item<double>();
  const double span = hi - lo;
  if (!(span > 1e-12 * std::max(1.0, std::abs(lo)))) {
    // All points (nearly) coincide: centre a unit square on them.
    return {lo - 1.0, lo + 1.0};
  }
  return {lo - 0.05 * span, hi + 0.05 * span};
}

void append_bytes(void* context, void* data, int size) {
  auto* buffer = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  buffer->insert(buffer->end(), bytes, bytes + size);
}

}  // namespace

void write_png(const std::string& path, const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    throw Error("cannot write " + path + ": image of " + std::to_string(image.width) + "x" +
                std::to_string(image.height) + " pixels has " + std::to_string(image.rgb.size()) + " bytes");
  }
  std::vector<uint8_t> encoded;
  if (!stbi_write_png_to_func(append_bytes, &encoded, image.width, image.height, 3, image.rgb.data(),
                              image.width * 3)) {
    throw Error("cannot write " + path + ": PNG encoding failed");
  }
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot open " + tmp + " for writing: " + std::strerror(errno));
    out.write(reinterpret_cast<const char*>(encoded.data()), static_cast<std::streamsize>(encoded.size()));
    out.flush();
    if (!out) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
  });
}

Image density_image(const torch::Tensor& points, double lo, double hi, int pixels) {
  check_points(points, "density_image");
  TORCH_CHECK(pixels > 0 && pixels <= 16384, "density_image: pixels must be in [1, 16384], got ", pixels);
  TORCH_CHECK(std::isfinite(lo) && std::isfinite(hi) && hi > lo, "density_image: need lo < hi, got [", lo, ", ",
              hi, "]");
  torch::NoGradGuard no_grad;
  const torch::Tensor xy = finite_xy(points);

  // Column from x, row from y with y pointing up (row 0 is the top edge).
  const double scale = pixels / (hi - lo);
  const torch::Tensor col = ((xy.select(1, 0) - lo) * scale).floor();
  const torch::Tensor row = ((hi - xy.select(1, 1)) * scale).floor();
  const torch::Tensor inside = (col >= 0) & (col < pixels) & (row >= 0) & (row < pixels);
  const torch::Tensor cell = (row.index({inside}) * pixels + col.index({inside})).to(torch::kLong);
  const torch::Tensor counts =
      torch::zeros({static_cast<int64_t>(pixels) * pixels}, torch::kLong).index_add_(0, cell, torch::ones_like(cell));

  Image image;
  image.width = pixels;
  image.height = pixels;
  image.rgb.resize(static_cast<std::size_t>(pixels) * pixels * 3);
  const int64_t* count = counts.data_ptr<int64_t>();
  const int64_t max_count = counts.numel() > 0 ? counts.max().item<int64_t>() : 0;
  const double log_max = std::log(static_cast<double>(std::max<int64_t>(max_count, 1)));
  for (int64_t i = 0; i < counts.numel(); ++i) {
    Rgb colour = kEmpty;
    if (count[i] > 0) {
      // Log scale: one point and the densest pixel span [kFloorLevel, 1].
      const double level =
          log_max > 0 ? kFloorLevel + (1.0 - kFloorLevel) * std::log(static_cast<double>(count[i])) / log_max : 1.0;
      colour = magma(level);
    }
    std::memcpy(&image.rgb[static_cast<std::size_t>(i) * 3], colour.data(), 3);
  }
  return image;
}

Image side_by_side(const std::vector<Image>& panels) {
  Image canvas;
  for (const auto& panel : panels) canvas.width += panel.width, canvas.height = std::max(canvas.height, panel.height);
  if (panels.empty()) return canvas;
  canvas.width += kSeparatorWidth * static_cast<int>(panels.size() - 1);
  canvas.rgb.assign(static_cast<std::size_t>(canvas.width) * canvas.height * 3, 255);
  int x_offset = 0;
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const Image& panel = panels[i];
    for (int row = 0; row < panel.height; ++row) {
      std::memcpy(&canvas.rgb[(static_cast<std::size_t>(row) * canvas.width + x_offset) * 3],
                  &panel.rgb[static_cast<std::size_t>(row) * panel.width * 3], static_cast<std::size_t>(panel.width) * 3);
    }
    x_offset += panel.width;
    if (i + 1 == panels.size()) break;
    for (int row = 0; row < canvas.height; ++row) {
      for (int x = x_offset; x < x_offset + kSeparatorWidth; ++x) {
        std::memcpy(&canvas.rgb[(static_cast<std::size_t>(row) * canvas.width + x) * 3], kSeparator.data(), 3);
      }
    }
    x_offset += kSeparatorWidth;
  }
  return canvas;
}

void plot_samples_beside_data(const std::string& path, const torch::Tensor& samples, const torch::Tensor& data,
                              int pixels) {
  check_points(samples, "plot_samples_beside_data (samples)");
  check_points(data, "plot_samples_beside_data (data)");
  torch::NoGradGuard no_grad;
  const torch::Tensor data_xy = finite_xy(data);
  const torch::Tensor sample_xy = finite_xy(samples);
  const auto [lo, hi] = robust_range(torch::cat({data_xy, sample_xy}, 0));

  const Image left = density_image(data_xy, lo, hi, pixels);
  const Image right = density_image(sample_xy, lo, hi, pixels);
  const Image canvas = side_by_side({left, right});
  write_png(path, canvas);
}

}  // namespace flowlab::io
