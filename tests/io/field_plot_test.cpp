// Field panels: a rotation's curl is positive everywhere (red), a gradient's is zero (white);
// arrows follow the field; the data hold the curl grid and the unscaled vectors.
#include "flowlab/io/field_plot.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/io/figure_layout.h"
#include "support/helpers.h"

namespace flowlab::io {
namespace {

std::array<int, 3> mean_colour(const Image& image) {
  std::array<long, 3> sum{0, 0, 0};
  for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
    for (int c = 0; c < 3; ++c) sum[c] += image.rgb[i + c];
  }
  const long pixels = static_cast<long>(image.rgb.size() / 3);
  return {static_cast<int>(sum[0] / pixels), static_cast<int>(sum[1] / pixels), static_cast<int>(sum[2] / pixels)};
}

torch::Tensor rotation(const torch::Tensor& x) { return torch::stack({-x.select(1, 1), x.select(1, 0)}, 1); }

TEST(FieldPlot, CurlColoursRotationsRedAndGradientsWhite) {
  torch::manual_seed(0);
  const auto points = torch::rand({500, 2}) * 4 - 2;
  const Panel turning = field_panel(rotation, points, 60);
  EXPECT_EQ(turning.raster.width, 60);
  const auto red = mean_colour(turning.raster);
  EXPECT_GT(red[0], red[2] + 60) << red[0] << " " << red[1] << " " << red[2];  // curl 2 > 0 everywhere
  const Panel gradient = field_panel([](const torch::Tensor& x) { return -x; }, points, 60);
  const auto neutral = mean_colour(gradient.raster);
  EXPECT_LT(std::abs(neutral[0] - neutral[2]), 10) << neutral[0] << " " << neutral[2];  // curl 0: white (shaded)
  // The colour bar's ends are the saturation value: ||J||_F = sqrt(2) for the rotation.
  ASSERT_TRUE(turning.colour_bar.has_value());
  EXPECT_EQ(turning.colour_bar->ticks.back().second, "+1.41");
}

TEST(FieldPlot, ArrowsFollowTheFieldAndTheDataKeepItsValues) {
  torch::manual_seed(1);
  const auto points = torch::rand({200, 2}) * 2 - 1;
  const Panel panel = field_panel(rotation, points, 20);
  ASSERT_EQ(panel.arrows.size(), 24u * 24u);
  double longest = 0.0;
  for (const Arrow& a : panel.arrows) {
    // Perpendicular to the position (a rotation), pointing anticlockwise.
    EXPECT_NEAR(a.x * a.dx + a.y * a.dy, 0.0, 1e-7);  // the field is evaluated in float32
    EXPECT_GE(a.x * a.dy - a.y * a.dx, 0.0);
    longest = std::max(longest, std::hypot(a.dx, a.dy));
  }
  const Range r = panel.range.value();
  EXPECT_NEAR(longest, 0.9 * (r.x_hi - r.x_lo) / 24, 1e-9);
  // The JSON data: a 20 x 20 curl grid of 2s and the field's own (unscaled) vectors.
  Figure figure;
  figure.panels.push_back(panel);
  EXPECT_NO_THROW(render_figure(figure));
  testing::TempDir dir;
  const FigureFiles files = write_figure(dir.file("field.png"), figure);
  const std::string out = testing::run_python(
      "import json\n"
      "p = json.load(open('" + files.json + "'))['panels'][0]\n"
      "c, f = p['curl'], p['field']\n"
      "print(len(c['x']), len(c['values']), len(c['values'][0]), max(abs(v - 2) for r in c['values'] for v in r) < 1e-4,\n"
      "      max(abs(u + y) + abs(v - x) for x, y, u, v in zip(f['x'], f['y'], f['u'], f['v'])) < 1e-6, len(p['arrows']['x']))\n");
  EXPECT_EQ(out, "20 20 20 True True 576\n");
}

}  // namespace
}  // namespace flowlab::io
