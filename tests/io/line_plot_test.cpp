// Line charts: the image size, a drawn line where its data are, and bad series refused.
#include "flowlab/io/line_plot.h"

#include <gtest/gtest.h>

#include "flowlab/core/error.h"

namespace flowlab::io {
namespace {

std::array<uint8_t, 3> pixel(const Image& image, int x, int y) {
  const std::size_t at = (static_cast<std::size_t>(y) * image.width + x) * 3;
  return {image.rgb[at], image.rgb[at + 1], image.rgb[at + 2]};
}

TEST(LinePlot, DrawsTheSeriesInsideTheAxesAndTheLegendBelow) {
  Series diagonal;
  diagonal.label = "y = x";
  diagonal.x = {0.0, 1.0};
  diagonal.y = {0.0, 1.0};
  diagonal.colour = {200, 0, 0};
  LinePlotOptions options;
  options.width = 400, options.height = 300;
  const Image image = line_plot({diagonal}, options);
  EXPECT_EQ(image.width, 400);
  EXPECT_EQ(image.height, 300 + 18 + 8);
  // The axes span [-0.05, 1.05] in both directions (5% padding): the middle of the chart is (0.5, 0.5).
  const int left = 92, right = 400 - 24, top = 44, bottom = 300 - 64;
  const int cx = (left + right) / 2, cy = (top + bottom) / 2;
  bool red_near_centre = false;
  for (int dy = -2; dy <= 2; ++dy) {
    for (int dx = -2; dx <= 2; ++dx) red_near_centre |= pixel(image, cx + dx, cy + dy) == std::array<uint8_t, 3>{200, 0, 0};
  }
  EXPECT_TRUE(red_near_centre);
  // Far from the diagonal, inside the axes: background or grid, never the series' colour.
  EXPECT_NE(pixel(image, left + 20, bottom - 120), (std::array<uint8_t, 3>{200, 0, 0}));

  Series bad = diagonal;
  bad.y = {1.0};
  EXPECT_THROW(line_plot({bad}, options), Error);
  options.height = 50;
  EXPECT_THROW(line_plot({diagonal}, options), Error);
}

TEST(LinePlot, LogAxisSkipsNonPositivePoints) {
  Series s;
  s.x = {0.0, 0.1, 1.0, 10.0};
  s.y = {5.0, 1.0, 2.0, 3.0};
  LinePlotOptions options;
  options.log_x = true;
  EXPECT_NO_THROW(line_plot({s}, options));
}

}  // namespace
}  // namespace flowlab::io
