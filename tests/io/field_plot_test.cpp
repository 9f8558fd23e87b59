// Field pictures: a rotation's curl is positive everywhere (red), a gradient's is zero (white).
#include "flowlab/io/field_plot.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

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

TEST(FieldPlot, CurlColoursRotationsRedAndGradientsWhite) {
  torch::manual_seed(0);
  const auto points = torch::rand({500, 2}) * 4 - 2;
  const Image rotation = field_image([](const torch::Tensor& x) { return torch::stack({-x.select(1, 1), x.select(1, 0)}, 1); },
                                     points, 240);
  EXPECT_EQ(rotation.width, 240);
  const auto red = mean_colour(rotation);
  EXPECT_GT(red[0], red[2] + 60) << red[0] << " " << red[1] << " " << red[2];  // curl 2 > 0 everywhere
  const Image gradient = field_image([](const torch::Tensor& x) { return -x; }, points, 240);
  const auto neutral = mean_colour(gradient);
  EXPECT_LT(std::abs(neutral[0] - neutral[2]), 10) << neutral[0] << " " << neutral[2];  // curl 0: white (shaded)
}

}  // namespace
}  // namespace flowlab::io
