// Sample grids: tile placement, padding, value mapping, upscaling, and which samples each row shows.
#include "flowlab/io/image_grid.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "flowlab/core/error.h"
#include "flowlab/io/figure_layout.h"

namespace flowlab::io {
namespace {

int grid_pixel(const Image& image, int x, int y, int channel = 0) {
  return image.rgb[(static_cast<std::size_t>(y) * image.width + x) * 3 + channel];
}

TEST(ImageGrid, PlacesTilesWithPaddingAndMapsValuesHalfUp) {
  // Three grey 2 x 2 tiles in 2 columns, padding 1: width 2 * (2 + 1) + 1 = 7, height 2 * 3 + 1 = 7.
  torch::Tensor images = torch::zeros({3, 1, 2, 2});
  images[0].fill_(-1.0);                                                       // black
  images[1].fill_(1.0);                                                        // white
  images[2] = torch::tensor({{0.0f, -2.0f}, {5.0f, std::numeric_limits<float>::quiet_NaN()}}).unsqueeze(0);
  const Image grid = image_grid(images, 2, -1.0, 1.0, /*padding=*/1);
  ASSERT_EQ(grid.width, 7);
  ASSERT_EQ(grid.height, 7);
  ASSERT_EQ(grid.rgb.size(), 7u * 7u * 3u);
  EXPECT_EQ(grid_pixel(grid, 0, 0), 224);  // padding
  EXPECT_EQ(grid_pixel(grid, 1, 1), 0);    // tile 0 at (1, 1)
  EXPECT_EQ(grid_pixel(grid, 2, 2), 0);
  EXPECT_EQ(grid_pixel(grid, 3, 1), 224);  // between tiles
  EXPECT_EQ(grid_pixel(grid, 4, 1), 255);  // tile 1 at (4, 1), every channel
  EXPECT_EQ(grid_pixel(grid, 5, 2, 2), 255);
  // Tile 2 at (1, 4): 0 -> 127.5 -> 128 (half up); -2 and 5 clamp; NaN shows as black.
  EXPECT_EQ(grid_pixel(grid, 1, 4), 128);
  EXPECT_EQ(grid_pixel(grid, 2, 4), 0);
  EXPECT_EQ(grid_pixel(grid, 1, 5), 255);
  EXPECT_EQ(grid_pixel(grid, 2, 5), 0);
  EXPECT_EQ(grid_pixel(grid, 4, 4), 224);  // the empty fourth cell
  // [0, 1] images: 0.5 -> 128.
  const Image unit = image_grid(torch::full({1, 1, 1, 1}, 0.5), 1, 0.0, 1.0, 0);
  EXPECT_EQ(grid_pixel(unit, 0, 0), 128);
}

TEST(ImageGrid, RgbChannelsAndUpscaling) {
  torch::Tensor images = torch::full({1, 3, 1, 2}, -1.0);
  images[0][0][0][1] = 1.0;  // right pixel red
  const Image grid = image_grid(images, 1, -1.0, 1.0, /*padding=*/0, /*scale=*/3);
  ASSERT_EQ(grid.width, 6);
  ASSERT_EQ(grid.height, 3);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 6; ++x) {
      EXPECT_EQ(grid_pixel(grid, x, y, 0), x >= 3 ? 255 : 0) << x << "," << y;
      EXPECT_EQ(grid_pixel(grid, x, y, 1), 0);
    }
  }
}

TEST(ImageGrid, RowsOfClassesInClassOrderUnconditionalAsASquare) {
  // Samples of classes 2, 0, 2, 1, 0, 2 with their index as value.
  const torch::Tensor images = torch::arange(6, torch::kFloat32).reshape({6, 1, 1, 1});
  const torch::Tensor labels = torch::tensor({2, 0, 2, 1, 0, 2}, torch::kLong);
  const std::vector<torch::Tensor> rows = sample_grid_rows(images, labels, 2);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(torch::equal(rows[0].flatten(), torch::tensor({1.0f, 4.0f})));  // class 0
  EXPECT_TRUE(torch::equal(rows[1].flatten(), torch::tensor({3.0f})));        // class 1: a short row
  EXPECT_TRUE(torch::equal(rows[2].flatten(), torch::tensor({0.0f, 2.0f})));  // class 2: its first 2
  // Unconditional (or one class): columns rows of columns, the first columns^2 samples.
  const std::vector<torch::Tensor> square = sample_grid_rows(images, torch::Tensor(), 2);
  ASSERT_EQ(square.size(), 2u);
  EXPECT_TRUE(torch::equal(square[1].flatten(), torch::tensor({2.0f, 3.0f})));
  EXPECT_EQ(sample_grid_rows(images, torch::full({6}, 1, torch::kLong), 3).size(), 2u);  // 6 samples, 3 a row
  const Image grid = image_grid_rows(rows, 2, 0.0, 5.0, 0);
  EXPECT_EQ(grid.width, 2);
  EXPECT_EQ(grid.height, 3);
  EXPECT_EQ(grid_pixel(grid, 1, 1), 224);  // class 1's empty second cell
  EXPECT_EQ(grid_pixel(grid, 1, 0), 204);  // 4 of [0, 5] -> 204
}

TEST(ImageGrid, FigureDrawsTheGridAtItsSizeAndKeepsTheLevels) {
  // Two rows: class 0 with values 0 and 5, class 1 with 2.5 (levels 0, 255, 128 on [0, 5]).
  const std::vector<torch::Tensor> rows = {torch::tensor({0.0f, 5.0f}).reshape({2, 1, 1, 1}),
                                           torch::tensor({2.5f}).reshape({1, 1, 1, 1})};
  const Figure figure = image_grid_figure(rows, 2, 0.0, 5.0, 1, 2);
  ASSERT_EQ(figure.panels.size(), 1u);
  const Image drawn = render_figure(figure);
  const Image grid = image_grid_rows(rows, 2, 0.0, 5.0, 1, 2);
  EXPECT_EQ(drawn.width, grid.width);
  EXPECT_EQ(drawn.height, grid.height);
  EXPECT_EQ(drawn.rgb, grid.rgb);
  const std::string data = figure.panels[0].data.str();
  EXPECT_NE(data.find("\"tile_shape\": [1, 1, 1]"), std::string::npos) << data;
  EXPECT_NE(data.find("\"rows\": [[[0], [255]], [[128]]]"), std::string::npos) << data;
}

TEST(ImageGrid, BadInputIsAnError) {
  EXPECT_THROW(image_grid(torch::zeros({2, 2, 4, 4}), 2), Error);           // 2 channels
  EXPECT_THROW(image_grid(torch::zeros({2, 16}), 2), Error);                // not images
  EXPECT_THROW(image_grid(torch::zeros({0, 1, 4, 4}), 2), Error);           // none
  EXPECT_THROW(image_grid(torch::zeros({2, 1, 4, 4}), 0), Error);           // no columns
  EXPECT_THROW(image_grid(torch::zeros({2, 1, 4, 4}), 2, 1.0, 1.0), Error);  // empty range
  EXPECT_THROW(image_grid(torch::zeros({2, 1, 4, 4}, torch::kLong), 2), Error);
  EXPECT_THROW(image_grid(torch::zeros({1, 1, 1, 9000}), 2), Error);        // too wide
  EXPECT_THROW(image_grid_rows({torch::zeros({3, 1, 2, 2})}, 2), Error);     // row longer than the grid
  EXPECT_THROW(sample_grid_rows(torch::zeros({3, 1, 2, 2}), torch::zeros({2}, torch::kLong), 2), Error);
}

}  // namespace
}  // namespace flowlab::io
