#include "flowlab/io/field_plot.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "canvas.h"
#include "flowlab/core/error.h"

namespace flowlab::io {
namespace {

constexpr int kCurlCell = 4;   // pixels per curl sample
constexpr int kArrows = 24;    // arrows per side
constexpr Rgb kArrowColour{20, 20, 20};

// Blue (-1) to white (0) to red (+1).
Rgb diverging(double v) {
  v = std::clamp(v, -1.0, 1.0);
  const auto mix = [](double a, double b, double u) { return static_cast<uint8_t>(std::lround(a + (b - a) * u)); };
  if (v < 0) return {mix(255, 33, -v), mix(255, 102, -v), mix(255, 172, -v)};
  return {mix(255, 178, v), mix(255, 24, v), mix(255, 43, v)};
}

}  // namespace

Image field_image(const std::function<torch::Tensor(const torch::Tensor&)>& field, const torch::Tensor& points,
                  int pixels) {
  TORCH_CHECK(points.dim() == 2 && points.size(1) == 2 && points.size(0) >= 1, "field image: points [M, 2] expected");
  if (pixels < 4 * kCurlCell) throw Error("field image: too few pixels");
  const auto p = points.to(torch::kFloat64).cpu();
  double lo = std::min(p.select(1, 0).min().item<double>(), p.select(1, 1).min().item<double>());
  double hi = std::max(p.select(1, 0).max().item<double>(), p.select(1, 1).max().item<double>());
  const double margin = 0.05 * std::max(hi - lo, 1e-9);
  lo -= margin, hi += margin;
  const auto evaluate = [&](const torch::Tensor& xy) {
    torch::NoGradGuard no_grad;
    return field(xy.to(points.options())).to(torch::kFloat64).cpu();
  };

  // Curl on the cell centres by central differences with a step of half a cell.
  const int cells = pixels / kCurlCell;
  const double cell = (hi - lo) / cells, h = 0.5 * cell;
  const auto centres = lo + (torch::arange(cells, torch::kFloat64) + 0.5) * cell;
  const auto gy = centres.flip(0);  // image rows run downwards
  auto grid = torch::stack(torch::meshgrid({gy, centres}, "ij"), -1).reshape({-1, 2}).flip(1);  // (x, y)
  const auto dx = torch::tensor({h, 0.0}, torch::kFloat64), dy = torch::tensor({0.0, h}, torch::kFloat64);
  const auto d_dx = (evaluate(grid + dx) - evaluate(grid - dx)) / (2 * h);  // [cells^2, 2]: d f / d x1
  const auto d_dy = (evaluate(grid + dy) - evaluate(grid - dy)) / (2 * h);  // d f / d x2
  const auto curl = d_dx.select(1, 1) - d_dy.select(1, 0);
  // Colours saturate at the Jacobian's size (99th percentile of ||J||_F), so a nearly conservative
  // field stays nearly white instead of showing its rounding noise at full strength.
  const auto jacobian_norm = torch::sqrt(d_dx.pow(2).sum(1) + d_dy.pow(2).sum(1));
  const double scale = std::max(jacobian_norm.quantile(0.99).item<double>(), 1e-12);

  // Density of the points per cell, for shading.
  const auto col = ((p.select(1, 0) - lo) / cell).floor().clamp(0, cells - 1).to(torch::kLong);
  const auto row = ((hi - p.select(1, 1)) / cell).floor().clamp(0, cells - 1).to(torch::kLong);
  const auto counts = torch::bincount(row * cells + col, {}, cells * cells).to(torch::kFloat64);
  const double densest = std::max(counts.max().item<double>(), 1.0);

  Canvas canvas(cells * kCurlCell, cells * kCurlCell);
  for (int r = 0; r < cells; ++r) {
    for (int c = 0; c < cells; ++c) {
      Rgb colour = diverging(curl[r * cells + c].item<double>() / scale);
      // Darken by up to 45% where the points are densest (sqrt: faint regions stay visible).
      const double shade = 1.0 - 0.45 * std::sqrt(counts[r * cells + c].item<double>() / densest);
      for (auto& channel : colour) channel = static_cast<uint8_t>(std::lround(channel * shade));
      canvas.fill(c * kCurlCell, r * kCurlCell, (c + 1) * kCurlCell, (r + 1) * kCurlCell, colour);
    }
  }

  // Arrows, the longest 0.9 of a grid cell.
  const double spacing = (hi - lo) / kArrows, pixel_per_unit = canvas.image.width / (hi - lo);
  const auto arrow_centres = lo + (torch::arange(kArrows, torch::kFloat64) + 0.5) * spacing;
  const auto arrow_grid = torch::stack(torch::meshgrid({arrow_centres, arrow_centres}, "ij"), -1).reshape({-1, 2});
  const auto vectors = evaluate(arrow_grid);
  const double longest = std::max(vectors.norm(2, 1).max().item<double>(), 1e-12);
  for (int64_t i = 0; i < arrow_grid.size(0); ++i) {
    const double x = (arrow_grid[i][0].item<double>() - lo) * pixel_per_unit;
    const double y = (hi - arrow_grid[i][1].item<double>()) * pixel_per_unit;
    const double length = 0.9 * spacing * pixel_per_unit / longest;
    const double ux = vectors[i][0].item<double>() * length, uy = -vectors[i][1].item<double>() * length;
    canvas.line(x, y, x + ux, y + uy, kArrowColour, 1.0);
    // Head: two short strokes at +-150 degrees from the direction.
    const double norm = std::hypot(ux, uy);
    if (norm > 2.0) {
      const double hx = ux / norm * 4.0, hy = uy / norm * 4.0;
      const double c = std::cos(2.6), s = std::sin(2.6);
      canvas.line(x + ux, y + uy, x + ux + c * hx - s * hy, y + uy + s * hx + c * hy, kArrowColour, 1.0);
      canvas.line(x + ux, y + uy, x + ux + c * hx + s * hy, y + uy - s * hx + c * hy, kArrowColour, 1.0);
    }
  }
  return canvas.image;
}

}  // namespace flowlab::io
