#include "flowlab/io/plot.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/io/figure_layout.h"
#include "support/helpers.h"


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

// Brightness of the brightest pixel within `radius` pixels of (x, y).
int brightest_near(const Image& image, double x, double y, int radius) {
  int best = 0;
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      const Rgb p = image.pixel(static_cast<int>(x) + dx, static_cast<int>(y) + dy);
      best = std::max(best, p[0] + p[1] + p[2]);
    }
  }
  return best;
}

TEST(PlotSamplesBesideData, PanelsShareARobustRangeAndShowEachCloudWhereItIs) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  // Data around (-2, -2), samples around (2, 2) in 3-D (third coordinate ignored),
  // plus one wild sample that must not squeeze the picture.
  const torch::Tensor data = torch::randn({4000, 2}, gen) * 0.4 - 2.0;
  torch::Tensor samples = torch::randn({4000, 3}, gen) * 0.4 + 2.0;
  samples[0] = torch::tensor({1e6, 1e6, 0.0});
  const Figure figure = samples_beside_data_figure(samples, data, 100);
  ASSERT_EQ(figure.panels.size(), 2u);
  const Range left = figure.panels[0].range.value(), right = figure.panels[1].range.value();
  // The range covers the central 99% of both clouds, padded: about [-3.2, 3.2] in x and y.
  EXPECT_EQ(left.x_lo, right.x_lo);
  EXPECT_EQ(left.x_hi, right.x_hi);
  EXPECT_EQ(left.x_lo, left.y_lo);
  EXPECT_NEAR(left.x_lo, -3.2, 0.4);
  EXPECT_NEAR(left.x_hi, 3.2, 0.4);
  EXPECT_EQ(figure.panels[0].raster.width, 100);
  EXPECT_TRUE(figure.panels[0].equal_aspect);

  const Image image = render_figure(figure);
  const FigureLayout layout = figure_layout(figure);
  const PlotArea& d = layout.areas[0];
  const PlotArea& s = layout.areas[1];
  EXPECT_NEAR(d.width, d.height, 1e-9);
  // Bright where the cloud is, black (no points) where the other cloud is.
  EXPECT_GT(brightest_near(image, d.x_pixel(-2.0), d.y_pixel(-2.0), 3), 300);
  EXPECT_EQ(brightest_near(image, d.x_pixel(2.0), d.y_pixel(2.0), 3), 0);  // empty bins are black
  EXPECT_GT(brightest_near(image, s.x_pixel(2.0), s.y_pixel(2.0), 3), 300);
  EXPECT_EQ(brightest_near(image, s.x_pixel(-2.0), s.y_pixel(-2.0), 3), 0);
}

TEST(PlotSamplesBesideData, WritesTheFigureWithThePointsAsData) {
  TempDir dir;
  const torch::Tensor data = torch::tensor(std::vector<double>{0.0, 1.0, 2.0, 3.0}).reshape({2, 2});
  const torch::Tensor samples = torch::tensor(std::vector<double>{0.5, NAN, -1.0, 4.0, 1.5, 2.5}).reshape({3, 2});
  const FigureFiles files = plot_samples_beside_data(dir.file("s.png"), samples, data, 32);
  for (const std::string& f : {files.png, files.svg, files.json}) EXPECT_TRUE(std::filesystem::exists(f)) << f;
  // Non-finite rows are left out of the picture and of the data.
  const std::string out = testing::run_python(
      "import json\n"
      "f = json.load(open('" + files.json + "'))\n"
      "print([(p['title'], p['points']['x'], p['points']['y'], p['bins']) for p in f['panels']])\n");
  EXPECT_EQ(out, "[('data (2)', [0, 2], [1, 3], 32), ('samples (2)', [-1, 1.5], [4, 2.5], 32)]\n");
}

TEST(PlotSamplesBesideData, HandlesDegenerateClouds) {
  // All points at (1, 1): a unit square around them, one lit bin per panel.
  const Figure figure = samples_beside_data_figure(torch::ones({10, 2}), torch::ones({10, 2}), 16);
  const Range r = figure.panels[0].range.value();
  EXPECT_EQ(r.x_lo, 0.0);
  EXPECT_EQ(r.x_hi, 2.0);
  for (const Panel& panel : figure.panels) {
    int lit = 0;
    for (int y = 0; y < 16; ++y) {
      for (int x = 0; x < 16; ++x) {
        const Rgb p = panel.raster.pixel(x, y);
        lit += p[0] + p[1] + p[2] > 0;
      }
    }
    EXPECT_EQ(lit, 1);
  }
  EXPECT_NO_THROW(render_figure(figure));
}

}  // namespace
}  // namespace flowlab::io
