// Figures through cairo: where series, rasters and arrows land in the drawn image, the layout
// (legend, equal aspect, bare panels), the axes' ticks, the three files and their data.
#include "flowlab/io/figure.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "flowlab/core/error.h"
#include "flowlab/io/figure_layout.h"
#include "support/helpers.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

namespace flowlab::io {
namespace {

using testing::TempDir;

int distance(const Rgb& a, const Rgb& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// The pixel nearest `colour` within `radius` pixels of (x, y), as its distance to `colour`.
int nearest_colour(const Image& image, double x, double y, const Rgb& colour, int radius) {
  int best = 1 << 30;
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      const int px = static_cast<int>(std::floor(x)) + dx, py = static_cast<int>(std::floor(y)) + dy;
      if (px < 0 || py < 0 || px >= image.width || py >= image.height) continue;
      best = std::min(best, distance(image.pixel(px, py), colour));
    }
  }
  return best;
}

Figure one_panel(Panel panel) {
  Figure figure;
  figure.panels.push_back(std::move(panel));
  return figure;
}

Series diagonal(const std::string& label = "y = x") {
  Series s;
  s.label = label;
  s.x = {0.0, 1.0};
  s.y = {0.0, 1.0};
  s.colour = {200, 0, 0};
  return s;
}

TEST(Figure, DrawsALineWhereItsDataAreAndNowhereElse) {
  Panel panel;
  panel.series = {diagonal()};
  const Figure figure = one_panel(panel);
  const Image image = render_figure(figure);
  const PlotArea a = figure_layout(figure).areas.at(0);
  // The axes cover [-0.05, 1.05] (5% padding) in both directions.
  EXPECT_NEAR(a.x.lo, -0.05, 1e-12);
  EXPECT_NEAR(a.y.hi, 1.05, 1e-12);
  for (double v : {0.1, 0.5, 0.9}) {
    EXPECT_LT(nearest_colour(image, a.x_pixel(v), a.y_pixel(v), {200, 0, 0}, 1), 40) << v;
  }
  // Far from the diagonal, inside the axes: background or grid, no red at all.
  EXPECT_GT(nearest_colour(image, a.x_pixel(0.2), a.y_pixel(0.8), {200, 0, 0}, 15), 200);
  EXPECT_GT(nearest_colour(image, a.x_pixel(0.8), a.y_pixel(0.2), {200, 0, 0}, 15), 200);
}

TEST(Figure, MarkersBarsAndErrorBarsSitAtTheirValues) {
  Series bars;
  bars.x = {1.0, 2.0, 3.0};
  bars.y = {0.5, 1.0, 0.25};
  bars.bar_width = 0.5;
  bars.line = false;
  bars.colour = {0, 150, 0};
  Series points;
  points.x = {1.0, 2.0, 3.0};
  points.y = {2.0, 2.0, 2.0};
  points.y_error = {0.5, 0.0, 0.0};
  points.line = false;
  points.markers = true;
  points.colour = {0, 0, 220};
  Panel panel;
  panel.series = {bars, points};
  const Figure figure = one_panel(panel);
  const Image image = render_figure(figure);
  const PlotArea a = figure_layout(figure).areas.at(0);
  // The axes include 0 (the bars' base), the bars' edges and the error bars' ends.
  EXPECT_LT(a.y.lo, 0.0);
  EXPECT_GT(a.y.hi, 2.5);
  EXPECT_LT(a.x.lo, 0.75);
  // Inside the middle bar (half way up), and above its top: nothing green.
  EXPECT_LT(distance(image.pixel(static_cast<int>(a.x_pixel(2.0)), static_cast<int>(a.y_pixel(0.5))), {0, 150, 0}),
            60);
  EXPECT_GT(nearest_colour(image, a.x_pixel(2.0), a.y_pixel(1.3), {0, 150, 0}, 3), 150);
  // A marker at each point; the error bar (a crisp line of one pixel) reaches 2.5 at x = 1 but
  // not at x = 2.
  EXPECT_LT(nearest_colour(image, a.x_pixel(3.0), a.y_pixel(2.0), {0, 0, 220}, 1), 40);
  EXPECT_LT(nearest_colour(image, a.x_pixel(1.0), a.y_pixel(2.4), {0, 0, 220}, 1), 10);
  EXPECT_GT(nearest_colour(image, a.x_pixel(2.0), a.y_pixel(2.4), {0, 0, 220}, 1), 150);
}

TEST(Figure, LegendBelowEqualAspectAndPanelsSideBySide) {
  Panel unlabelled;
  unlabelled.series = {diagonal("")};
  Figure figure = one_panel(unlabelled);
  EXPECT_EQ(figure_layout(figure).height, figure.panel_height);
  // Two labelled series: the legend adds two lines (and a gap) below the axes.
  Panel labelled;
  labelled.series = {diagonal("a"), diagonal("b")};
  figure.panels.push_back(labelled);
  const FigureLayout two = figure_layout(figure);
  EXPECT_EQ(two.width, 2 * figure.panel_width);
  EXPECT_GT(two.height, figure.panel_height + 2 * 18);
  EXPECT_NEAR(two.areas[1].left - two.areas[0].left, figure.panel_width, 1e-9);

  Panel wide;
  wide.range = Range{0.0, 2.0, 0.0, 1.0};
  wide.equal_aspect = true;
  wide.series = {diagonal()};
  const PlotArea a = figure_layout(one_panel(wide)).areas.at(0);
  EXPECT_NEAR(a.width, 2.0 * a.height, 1e-9);
  EXPECT_NEAR(a.x_pixel(1.0) - a.x_pixel(0.0), a.y_pixel(0.0) - a.y_pixel(1.0), 1e-9);
}

TEST(Figure, RasterFillsTheRangeWithSharpPixelsAndBarePanelsKeepTheirSize) {
  Image raster{2, 2, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0}};  // red green / blue yellow
  Panel panel;
  panel.raster = raster;
  panel.range = Range{0.0, 1.0, 0.0, 1.0};
  ColourBar bar;
  bar.colours = {{0, 0, 0}, {255, 255, 255}};
  bar.ticks = {{0.0, "0"}, {1.0, "1"}};
  panel.colour_bar = bar;
  const Figure figure = one_panel(panel);
  const Image image = render_figure(figure);
  const PlotArea a = figure_layout(figure).areas.at(0);
  // Quadrant centres: row 0 of the raster is the top (y near 1).
  EXPECT_EQ(image.pixel(static_cast<int>(a.x_pixel(0.25)), static_cast<int>(a.y_pixel(0.75))), (Rgb{255, 0, 0}));
  EXPECT_EQ(image.pixel(static_cast<int>(a.x_pixel(0.75)), static_cast<int>(a.y_pixel(0.75))), (Rgb{0, 255, 0}));
  EXPECT_EQ(image.pixel(static_cast<int>(a.x_pixel(0.25)), static_cast<int>(a.y_pixel(0.25))), (Rgb{0, 0, 255}));
  EXPECT_EQ(image.pixel(static_cast<int>(a.x_pixel(0.75)), static_cast<int>(a.y_pixel(0.25))), (Rgb{255, 255, 0}));
  // Nearest-neighbour: two pixels either side of the middle column are pure colours, not blends.
  EXPECT_EQ(image.pixel(static_cast<int>(a.x_pixel(0.5)) - 2, static_cast<int>(a.y_pixel(0.75))), (Rgb{255, 0, 0}));
  EXPECT_EQ(image.pixel(static_cast<int>(a.x_pixel(0.5)) + 2, static_cast<int>(a.y_pixel(0.75))), (Rgb{0, 255, 0}));
  // The colour bar lies right of the axes: black at its bottom, white at its top.
  const int bar_x = static_cast<int>(a.left + a.width + 12 + 7);
  EXPECT_EQ(image.pixel(bar_x, static_cast<int>(a.top + a.height - 5)), (Rgb{0, 0, 0}));
  EXPECT_EQ(image.pixel(bar_x, static_cast<int>(a.top + 5)), (Rgb{255, 255, 255}));

  Panel bare;
  bare.bare = true;
  bare.raster = raster;
  const Image drawn = render_figure(one_panel(bare));
  EXPECT_EQ(drawn.width, 2);
  EXPECT_EQ(drawn.height, 2);
  EXPECT_EQ(drawn.rgb, raster.rgb);
}

// Ink in a column of pixels: the summed darkness (0 white, 1 black) of rows [y0, y1] at column x.
double column_ink(const Image& image, double x, double y0, double y1) {
  double ink = 0.0;
  for (int y = static_cast<int>(y0); y <= static_cast<int>(y1); ++y) {
    const Rgb p = image.pixel(static_cast<int>(x), y);
    ink += (765.0 - p[0] - p[1] - p[2]) / 765.0;
  }
  return ink;
}

TEST(Figure, ArrowsPointFromTailToHead) {
  Panel panel;
  panel.range = Range{0.0, 1.0, 0.0, 1.0};
  panel.arrows = {{0.2, 0.5, 0.6, 0.0}};  // rightwards across the middle
  const Figure figure = one_panel(panel);
  const Image image = render_figure(figure);
  const PlotArea a = figure_layout(figure).areas.at(0);
  const double y = a.y_pixel(0.5);
  // The shaft is about one pixel of ink across; near the tip the head is over twice as wide;
  // before the tail and beyond the tip only the light grid line at y = 0.5 (0.12 of ink). The
  // columns avoid the vertical grid lines (ticks at multiples of 0.2).
  EXPECT_NEAR(column_ink(image, a.x_pixel(0.45), y - 6, y + 6), 1.05, 0.25);
  EXPECT_GT(column_ink(image, a.x_pixel(0.8) - 3, y - 6, y + 6), 1.8);
  EXPECT_LT(column_ink(image, a.x_pixel(0.15), y - 6, y + 6), 0.2);
  EXPECT_LT(column_ink(image, a.x_pixel(0.8) + 3, y - 6, y + 6), 0.2);
}

TEST(Figure, TicksAreRoundNumbersAndLogAxesWholeDecades) {
  const std::vector<double> ticks = linear_ticks(0.0, 1.0);
  ASSERT_EQ(ticks.size(), 6u);
  for (std::size_t i = 0; i < ticks.size(); ++i) EXPECT_NEAR(ticks[i], 0.2 * static_cast<double>(i), 1e-12);
  EXPECT_EQ(linear_ticks(-3.2, 7.9), (std::vector<double>{0, 5}));
  EXPECT_EQ(linear_ticks(-0.9, 1.3), (std::vector<double>{-0.5, 0, 0.5, 1}));
  EXPECT_TRUE(linear_ticks(1.0, 1.0).empty());

  const Axis log = axis_over({0.0, -1.0, 0.03, 5.0, NAN}, true);  // x <= 0 and NaN are ignored
  EXPECT_TRUE(log.log);
  EXPECT_EQ(log.lo, -2.0);
  EXPECT_EQ(log.hi, 1.0);
  EXPECT_EQ(x_ticks(log), (std::vector<double>{0.01, 0.1, 1.0, 10.0}));
  EXPECT_NEAR(log.fraction(0.1), 1.0 / 3.0, 1e-12);
  // A single value gets a unit-wide axis around it.
  const Axis flat = axis_over({4.0}, false);
  EXPECT_LT(flat.lo, 4.0);
  EXPECT_GT(flat.hi, 4.0);
}

TEST(Figure, WritesPngSvgAndJsonData) {
  TempDir dir;
  Panel panel;
  panel.title = "a title";
  panel.x_label = "t";
  panel.series = {diagonal()};
  panel.series[0].y_error = {0.1, 0.2};
  panel.data.add("extra", 42);
  Figure figure = one_panel(panel);
  figure.title = "figure title";
  const FigureFiles files = write_figure(dir.file("plot.png"), figure);
  EXPECT_EQ(files.png, dir.file("plot.png"));
  EXPECT_EQ(files.svg, dir.file("plot.svg"));
  EXPECT_EQ(files.json, dir.file("plot.data.json"));

  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load(files.png.c_str(), &width, &height, &channels, 3);
  ASSERT_NE(pixels, nullptr) << stbi_failure_reason();
  const Image rendered = render_figure(figure);
  EXPECT_EQ(width, rendered.width);
  EXPECT_EQ(height, rendered.height);
  EXPECT_TRUE(std::equal(rendered.rgb.begin(), rendered.rgb.end(), pixels));
  stbi_image_free(pixels);

  const std::string svg = testing::read_file(files.svg);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"" + std::to_string(width) + "pt\""), std::string::npos) << svg.substr(0, 300);

  // The JSON is what Python reads back: the series, the range, the extra data.
  const std::string out = testing::run_python(
      "import json\n"
      "f = json.load(open('" + files.json + "'))\n"
      "p = f['panels'][0]\n"
      "s = p['series'][0]\n"
      "print(f['title'], p['title'], p['x_label'], s['label'], s['x'], s['y'], s['y_error'], s['style'], "
      "s['colour'], [round(v, 6) for v in p['x_range']], p['extra'])\n");
  EXPECT_EQ(out, "figure title a title t y = x [0, 1] [0, 1] [0.1, 0.2] line #c80000 [-0.05, 1.05] 42\n");
}

TEST(Figure, BadFiguresAndFailedWritesAreErrorsThatLeaveNoFiles) {
  TempDir dir;
  Series bad = diagonal();
  bad.y = {1.0};
  Panel panel;
  panel.series = {bad};
  EXPECT_THROW(write_figure(dir.file("a.png"), one_panel(panel)), Error);
  EXPECT_THROW(write_figure(dir.file("a.png"), Figure{}), Error);
  Panel raster_without_range;
  raster_without_range.raster = Image{1, 1, {0, 0, 0}};
  EXPECT_THROW(write_figure(dir.file("a.png"), one_panel(raster_without_range)), Error);
  Panel small;
  small.series = {diagonal()};
  Figure tiny = one_panel(small);
  tiny.panel_height = 50;
  EXPECT_THROW(write_figure(dir.file("a.png"), tiny), Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  // A directory that does not exist: the error names the file.
  try {
    write_figure(dir.file("missing/a.png"), one_panel(small));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing/a.png"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace flowlab::io
