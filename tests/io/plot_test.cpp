#include "flowlab/io/plot.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "support/helpers.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

namespace flowlab::io {
namespace {

using testing::TempDir;

struct Decoded {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
  int brightness(int x, int y) const {
    const std::size_t at = (static_cast<std::size_t>(y) * width + x) * 3;
    return rgb[at] + rgb[at + 1] + rgb[at + 2];
  }
};

Decoded decode_png(const std::string& path) {
  Decoded out;
  int channels = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &out.width, &out.height, &channels, 3);
  if (!pixels) throw std::runtime_error("cannot decode " + path + ": " + stbi_failure_reason());
  out.rgb.assign(pixels, pixels + static_cast<std::size_t>(out.width) * out.height * 3);
  stbi_image_free(pixels);
  return out;
}

// Bounding box of the pixels brighter than `threshold` in columns [x0, x1).
struct Box {
  int min_x = 1 << 30, max_x = -1, min_y = 1 << 30, max_y = -1, count = 0;
};
Box lit_box(const Decoded& image, int x0, int x1, int threshold) {
  Box box;
  for (int y = 0; y < image.height; ++y) {
    for (int x = x0; x < x1; ++x) {
      if (image.brightness(x, y) <= threshold) continue;
      box.min_x = std::min(box.min_x, x - x0);
      box.max_x = std::max(box.max_x, x - x0);
      box.min_y = std::min(box.min_y, y);
      box.max_y = std::max(box.max_y, y);
      ++box.count;
    }
  }
  return box;
}


TEST(Png, WritesAValidPngThatDecodesToTheSamePixels) {
  TempDir dir;
  Image image{5, 3, {}};
  for (int i = 0; i < 5 * 3 * 3; ++i) image.rgb.push_back(static_cast<uint8_t>(i * 5));
  const std::string file = dir.file("tiny.png");
  write_png(file, image);

  std::ifstream in(file, std::ios::binary);
  std::string signature(8, '\0');
  in.read(signature.data(), 8);
  EXPECT_EQ(signature, std::string("\x89PNG\r\n\x1a\n", 8));
  const Decoded decoded = decode_png(file);
  EXPECT_EQ(decoded.width, 5);
  EXPECT_EQ(decoded.height, 3);
  EXPECT_EQ(decoded.rgb, image.rgb);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

TEST(Png, RejectsInconsistentImages) {
  TempDir dir;
  EXPECT_THROW(write_png(dir.file("bad.png"), Image{4, 4, std::vector<uint8_t>(10)}), Error);
  EXPECT_THROW(write_png(dir.file("bad.png"), Image{0, 4, {}}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.png")));
}

TEST(DensityImage, BrightPixelsSitWhereThePointsAre) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  // 5000 points in the upper-right quadrant of [-1, 1]^2: x, y in [0.2, 0.8].
  const torch::Tensor points = torch::rand({5000, 2}, gen) * 0.6 + 0.2;
  const Image image = density_image(points, -1.0, 1.0, 64);
  ASSERT_EQ(image.width, 64);
  ASSERT_EQ(image.height, 64);
  ASSERT_EQ(image.rgb.size(), 64u * 64u * 3u);
  const Decoded view{image.width, image.height, image.rgb};
  const Box box = lit_box(view, 0, 64, 0);
  // Columns 38..57 cover x in [0.2, 0.8]; rows 6..25 cover y in [0.8, 0.2] (y up).
  EXPECT_EQ(box.min_x, 38);
  EXPECT_EQ(box.max_x, 57);
  EXPECT_EQ(box.min_y, 6);
  EXPECT_EQ(box.max_y, 25);
  EXPECT_EQ(box.count, 20 * 20);  // ~12 points per cell: every cell is hit
  EXPECT_EQ(view.brightness(10, 50), 0);  // empty: black
}

TEST(DensityImage, DenserRegionsAreBrighter) {
  // 1 point at (-0.5, -0.5), 10 at (0, 0), 1000 at (0.5, 0.5); range [-1, 1], 4x4 pixels.
  std::vector<float> values = {-0.5f, -0.5f};
  for (int i = 0; i < 10; ++i) values.insert(values.end(), {0.1f, 0.1f});
  for (int i = 0; i < 1000; ++i) values.insert(values.end(), {0.6f, 0.6f});
  const torch::Tensor points = torch::tensor(values).reshape({-1, 2});
  const Decoded view{4, 4, density_image(points, -1.0, 1.0, 4).rgb};
  const int sparse = view.brightness(1, 3), medium = view.brightness(2, 1), dense = view.brightness(3, 0);
  EXPECT_GT(sparse, 0);
  EXPECT_GT(medium, sparse);
  EXPECT_GT(dense, medium);
  EXPECT_EQ(dense, 252 + 253 + 191);  // the top of the colour map
  EXPECT_EQ(view.brightness(0, 0), 0);
}

TEST(DensityImage, IgnoresNonFinitePointsAndChecksArguments) {
  const torch::Tensor points = torch::tensor(std::vector<double>{0.5, 0.5, NAN, 0.0, 0.0, INFINITY}).reshape({3, 2});
  const Decoded view{8, 8, density_image(points, 0.0, 1.0, 8).rgb};
  EXPECT_EQ(lit_box(view, 0, 8, 0).count, 1);
  EXPECT_THROW(density_image(torch::zeros({3}), 0, 1, 8), c10::Error);
  EXPECT_THROW(density_image(points, 1, 0, 8), c10::Error);
  EXPECT_THROW(density_image(points, 0, 1, 0), c10::Error);
}

TEST(PlotSamplesBesideData, PanelsShareARobustRange) {
  TempDir dir;
  at::Generator gen = at::detail::createCPUGenerator(5);
  const int pixels = 128;
  // Data around (-2, -2), samples around (2, 2) in 3-D (third coordinate ignored),
  // plus one wild sample that must not squeeze the picture.
  const torch::Tensor data = torch::randn({4000, 2}, gen) * 0.4 - 2.0;
  torch::Tensor samples = torch::randn({4000, 3}, gen) * 0.4 + 2.0;
  samples[0] = torch::tensor({1e6, 1e6, 0.0});
  const std::string file = dir.file("figure.png");
  plot_samples_beside_data(file, samples, data, pixels);

  const Decoded figure = decode_png(file);
  ASSERT_EQ(figure.width, 2 * pixels + 2);
  ASSERT_EQ(figure.height, pixels);
  // Separator: grey columns between the panels.
  EXPECT_EQ(figure.brightness(pixels, 0), 3 * 128);
  EXPECT_EQ(figure.brightness(pixels + 1, pixels - 1), 3 * 128);

  const Box left = lit_box(figure, 0, pixels, 0);
  const Box right = lit_box(figure, pixels + 2, 2 * pixels + 2, 0);
  // Data sits bottom-left, samples top-right, each in its own panel.
  EXPECT_LT((left.min_x + left.max_x) / 2, pixels / 2);
  EXPECT_GT((left.min_y + left.max_y) / 2, pixels / 2);
  EXPECT_GT((right.min_x + right.max_x) / 2, pixels / 2);
  EXPECT_LT((right.min_y + right.max_y) / 2, pixels / 2);
  // The range is about [-3.2, 3.2], so each cloud (about 2.8 wide) spans over a
  // third of its panel; a range stretched to the outlier would shrink it to a dot.
  EXPECT_GT(left.max_x - left.min_x, pixels / 4);
  EXPECT_GT(right.max_y - right.min_y, pixels / 4);
  // Same range in both panels: the clouds are mirror images about the centre.
  EXPECT_NEAR(left.min_x + left.max_x, 2 * (pixels - 1) - (right.min_x + right.max_x), 12);
}

TEST(PlotSamplesBesideData, HandlesDegenerateClouds) {
  TempDir dir;
  const std::string file = dir.file("same.png");
  plot_samples_beside_data(file, torch::ones({10, 2}), torch::ones({10, 2}), 16);
  const Decoded figure = decode_png(file);
  EXPECT_EQ(figure.width, 34);
  EXPECT_EQ(lit_box(figure, 0, 16, 0).count, 1);
  EXPECT_EQ(lit_box(figure, 18, 34, 0).count, 1);
}

}  // namespace
}  // namespace flowlab::io
