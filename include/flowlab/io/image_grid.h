#pragma once
// Image samples as one picture: tiles in a grid, separated and framed by light grey padding.
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "flowlab/io/figure.h"
#include "flowlab/io/image.h"

namespace flowlab::io {

/// The tiles of float images [N, C, H, W] (C = 1 grey, 3 RGB; any device), row-major in
/// `columns` columns (the last row may be partial; the grid is `columns` wide even for
/// N < columns). Values are clamped to [lo, hi] and mapped to 0..255, rounding half up; NaN
/// shows as lo. Each tile is upscaled `scale` times (nearest neighbour) so that small images
/// stay visible; `padding` pixels of light grey (224) lie between tiles and around the grid.
/// Throws Error for another rank or channel count, N = 0, columns < 1, scale < 1, padding < 0,
/// lo >= hi, or a grid beyond 16384 pixels a side.
Image image_grid(const torch::Tensor& images, int64_t columns, double lo = -1, double hi = 1, int padding = 2,
                 int scale = 1);

/// As image_grid, one grid row per entry of `rows` (each [n_r, C, H, W], 0 <= n_r <= columns,
/// all of one C, H, W): a short row leaves its last cells grey.
Image image_grid_rows(const std::vector<torch::Tensor>& rows, int64_t columns, double lo = -1, double hi = 1,
                      int padding = 2, int scale = 1);

/// The grid of image_grid_rows as a figure of one bare panel (drawn at its own size); its JSON
/// data hold each tile as 8-bit levels (value = lo + (hi - lo) * level / 255), row by row.
Figure image_grid_figure(const std::vector<torch::Tensor>& rows, int64_t columns, double lo = -1, double hi = 1,
                         int padding = 2, int scale = 1);

/// The rows of a sample grid of `columns` columns from images [N, ...] and their int64 class
/// labels [N] (undefined: unconditional). Unconditional samples, or samples of a single class
/// (or only the null class), fill `columns` rows of `columns` with the first columns^2 images;
/// samples of several classes give one row per class, in increasing class order, with the
/// class's first `columns` images in drawn order. Too few images leave rows short (or fewer).
std::vector<torch::Tensor> sample_grid_rows(const torch::Tensor& images, const torch::Tensor& labels,
                                            int64_t columns);

}  // namespace flowlab::io
