#include "flowlab/io/image_grid.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <string>

#include "flowlab/core/error.h"

namespace flowlab::io {
namespace {

// Light grey: visible against black and white tiles alike.
constexpr uint8_t kGridBackground = 224;
constexpr int64_t kMaxGridSide = 16384;

std::string shape_text(const torch::Tensor& t) {
  std::string text = "[";
  for (int64_t i = 0; i < t.dim(); ++i) text += (i ? ", " : "") + std::to_string(t.size(i));
  return text + "]";
}

void check_grid_tiles(const torch::Tensor& images, const char* what) {
  if (!images.defined()) throw Error(std::string(what) + ": no images (undefined tensor)");
  if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3)) {
    throw Error(std::string(what) + ": expected images [N, C, H, W] with C = 1 (grey) or 3 (RGB), got " +
                shape_text(images));
  }
  if (!images.is_floating_point()) throw Error(std::string(what) + ": expected floating-point images");
}

// [N, C, H, W] floats -> uint8 levels [N, C, H, W] on the CPU.
torch::Tensor pixel_levels(const torch::Tensor& images, double lo, double hi) {
  torch::Tensor x = images.detach().to(torch::kCPU, torch::kFloat64).nan_to_num(lo, hi, lo).clamp(lo, hi);
  // Half up, not torch.round's half to even: 127.5 is 128 whatever the neighbours.
  return ((x - lo) * (255.0 / (hi - lo)) + 0.5).floor().clamp(0, 255).to(torch::kUInt8);
}

// [N, C, H, W] floats -> uint8 [N, H * scale, W * scale, 3] on the CPU.
torch::Tensor grid_tile_pixels(const torch::Tensor& images, double lo, double hi, int scale) {
  torch::Tensor x = pixel_levels(images, lo, hi);
  if (x.size(1) == 1) x = x.expand({-1, 3, -1, -1});
  x = x.permute({0, 2, 3, 1});
  if (scale > 1) x = x.repeat_interleave(scale, 1).repeat_interleave(scale, 2);
  return x.contiguous();
}

}  // namespace

Image image_grid_rows(const std::vector<torch::Tensor>& rows, int64_t columns, double lo, double hi, int padding,
                      int scale) {
  const char* what = "image_grid";
  if (rows.empty()) throw Error(std::string(what) + ": no rows");
  if (columns < 1) throw Error(std::string(what) + ": columns must be >= 1, got " + std::to_string(columns));
  if (scale < 1) throw Error(std::string(what) + ": scale must be >= 1, got " + std::to_string(scale));
  if (padding < 0) throw Error(std::string(what) + ": padding must be >= 0, got " + std::to_string(padding));
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi)) {
    throw Error(std::string(what) + ": need finite lo < hi, got [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  }
  int64_t total = 0;
  for (const torch::Tensor& row : rows) {
    check_grid_tiles(row, what);
    if (row.sizes().slice(1) != rows.front().sizes().slice(1)) {
      throw Error(std::string(what) + ": rows of different image shapes, " + shape_text(rows.front()) + " and " +
                  shape_text(row));
    }
    if (row.size(0) > columns) {
      throw Error(std::string(what) + ": a row of " + std::to_string(row.size(0)) + " images in " +
                  std::to_string(columns) + " columns");
    }
    total += row.size(0);
  }
  if (total == 0) throw Error(std::string(what) + ": no images");

  const int64_t tile_h = rows.front().size(2) * scale, tile_w = rows.front().size(3) * scale;
  const int64_t width = columns * (tile_w + padding) + padding;
  const int64_t height = static_cast<int64_t>(rows.size()) * (tile_h + padding) + padding;
  if (width > kMaxGridSide || height > kMaxGridSide) {
    throw Error(std::string(what) + ": a grid of " + std::to_string(width) + "x" + std::to_string(height) +
                " pixels is too large (at most " + std::to_string(kMaxGridSide) + " a side)");
  }

  Image canvas;
  canvas.width = static_cast<int>(width);
  canvas.height = static_cast<int>(height);
  canvas.rgb.assign(static_cast<std::size_t>(width * height * 3), kGridBackground);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size(0) == 0) continue;
    const torch::Tensor tiles = grid_tile_pixels(rows[r], lo, hi, scale);
    const uint8_t* src = tiles.data_ptr<uint8_t>();
    const int64_t top = padding + static_cast<int64_t>(r) * (tile_h + padding);
    for (int64_t c = 0; c < tiles.size(0); ++c) {
      const int64_t left = padding + c * (tile_w + padding);
      for (int64_t y = 0; y < tile_h; ++y) {
        std::memcpy(&canvas.rgb[static_cast<std::size_t>(((top + y) * width + left) * 3)],
                    src + (c * tile_h + y) * tile_w * 3, static_cast<std::size_t>(tile_w * 3));
      }
    }
  }
  return canvas;
}

Image image_grid(const torch::Tensor& images, int64_t columns, double lo, double hi, int padding, int scale) {
  check_grid_tiles(images, "image_grid");
  if (images.size(0) == 0) throw Error("image_grid: no images");
  if (columns < 1) throw Error("image_grid: columns must be >= 1, got " + std::to_string(columns));
  std::vector<torch::Tensor> rows;
  for (int64_t begin = 0; begin < images.size(0); begin += columns) {
    rows.push_back(images.slice(0, begin, std::min(begin + columns, images.size(0))));
  }
  return image_grid_rows(rows, columns, lo, hi, padding, scale);
}

std::vector<torch::Tensor> sample_grid_rows(const torch::Tensor& images, const torch::Tensor& labels,
                                            int64_t columns) {
  if (!images.defined() || images.dim() < 1) throw Error("sample_grid_rows: expected images [N, ...]");
  if (columns < 1) throw Error("sample_grid_rows: columns must be >= 1, got " + std::to_string(columns));
  const int64_t n = images.size(0);
  if (labels.defined() && labels.numel() != n) {
    throw Error("sample_grid_rows: " + std::to_string(labels.numel()) + " labels for " + std::to_string(n) +
                " images");
  }
  const torch::Tensor cpu_labels = labels.defined() ? labels.to(torch::kCPU, torch::kLong).flatten() : torch::Tensor();
  const torch::Tensor classes = cpu_labels.defined() ? std::get<0>(torch::_unique(cpu_labels)) : torch::Tensor();
  std::vector<torch::Tensor> rows;
  if (!classes.defined() || classes.numel() <= 1) {
    const int64_t shown = std::min(n, columns * columns);
    for (int64_t begin = 0; begin < shown; begin += columns) {
      rows.push_back(images.slice(0, begin, std::min(begin + columns, shown)));
    }
    return rows;
  }
  for (int64_t i = 0; i < classes.numel(); ++i) {
    const torch::Tensor index = torch::nonzero(cpu_labels == classes[i]).flatten();
    rows.push_back(images.index_select(0, index.slice(0, 0, columns).to(images.device())));
  }
  return rows;
}

Figure image_grid_figure(const std::vector<torch::Tensor>& rows, int64_t columns, double lo, double hi, int padding,
                         int scale) {
  Panel panel;
  panel.bare = true;
  panel.raster = image_grid_rows(rows, columns, lo, hi, padding, scale);
  JsonArray levels;
  for (const torch::Tensor& row : rows) {
    JsonArray tiles;
    const torch::Tensor row_levels = pixel_levels(row, lo, hi).to(torch::kLong).flatten(1).contiguous();
    for (int64_t i = 0; i < row_levels.size(0); ++i) {
      const int64_t* v = row_levels[i].data_ptr<int64_t>();
      JsonArray tile;
      for (int64_t k = 0; k < row_levels.size(1); ++k) tile.push(v[k]);
      tiles.push(tile);
    }
    levels.push(tiles);
  }
  const auto shape = rows.front().sizes();
  panel.data.add("columns", columns)
      .add("tile_shape", JsonArray().push(shape[1]).push(shape[2]).push(shape[3]))
      .add("value_range", JsonArray({lo, hi}))
      .add("levels_note", "each tile row-major [C, H, W] as levels 0..255: value = lo + (hi - lo) * level / 255")
      .add("rows", levels);
  Figure figure;
  figure.panels.push_back(std::move(panel));
  return figure;
}

}  // namespace flowlab::io
