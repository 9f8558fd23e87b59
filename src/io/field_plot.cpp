#include "flowlab/io/field_plot.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "flowlab/core/error.h"

namespace flowlab::io {
namespace {

constexpr int kArrows = 24;  // arrows per side

// Blue (-1) to white (0) to red (+1).
Rgb diverging(double v) {
  v = std::clamp(v, -1.0, 1.0);
  const auto mix = [](double a, double b, double u) { return static_cast<uint8_t>(std::lround(a + (b - a) * u)); };
  if (v < 0) return {mix(255, 33, -v), mix(255, 102, -v), mix(255, 172, -v)};
  return {mix(255, 178, v), mix(255, 24, v), mix(255, 43, v)};
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous().cpu();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

Panel field_panel(const std::function<torch::Tensor(const torch::Tensor&)>& field, const torch::Tensor& points,
                  int cells) {
  TORCH_CHECK(points.dim() == 2 && points.size(1) == 2 && points.size(0) >= 1, "field panel: points [M, 2] expected");
  if (cells < 4 || cells > 4096) throw Error("field panel: cells must be in [4, 4096], got " + std::to_string(cells));
  const auto p = points.to(torch::kFloat64).cpu();
  double lo = std::min(p.select(1, 0).min().item<double>(), p.select(1, 1).min().item<double>());
  double hi = std::max(p.select(1, 0).max().item<double>(), p.select(1, 1).max().item<double>());
  const double margin = 0.05 * std::max(hi - lo, 1e-9);
  lo -= margin, hi += margin;
  const auto evaluate = [&](const torch::Tensor& xy) {
    torch::NoGradGuard no_grad;
    return field(xy.to(points.options())).to(torch::kFloat64).cpu();
  };

  // Curl on the cell centres by central differences with a step of half a cell; grid rows run
  // downwards (row 0 at the top, y = hi), as the raster's.
  const double cell = (hi - lo) / cells, h = 0.5 * cell;
  const auto centres = lo + (torch::arange(cells, torch::kFloat64) + 0.5) * cell;
  const auto gy = centres.flip(0);
  auto grid = torch::stack(torch::meshgrid({gy, centres}, "ij"), -1).reshape({-1, 2}).flip(1);  // (x, y)
  const auto dx = torch::tensor({h, 0.0}, torch::kFloat64), dy = torch::tensor({0.0, h}, torch::kFloat64);
  const auto d_dx = (evaluate(grid + dx) - evaluate(grid - dx)) / (2 * h);  // [cells^2, 2]: d f / d x1
  const auto d_dy = (evaluate(grid + dy) - evaluate(grid - dy)) / (2 * h);  // d f / d x2
  const auto curl = (d_dx.select(1, 1) - d_dy.select(1, 0)).contiguous();
  // Colours saturate at the Jacobian's size (99th percentile of ||J||_F), so a nearly conservative
  // field stays nearly white instead of showing its rounding noise at full strength.
  const auto jacobian_norm = torch::sqrt(d_dx.pow(2).sum(1) + d_dy.pow(2).sum(1));
  const double scale = std::max(jacobian_norm.quantile(0.99).item<double>(), 1e-12);

  // Density of the points per cell, for shading.
  const auto col = ((p.select(1, 0) - lo) / cell).floor().clamp(0, cells - 1).to(torch::kLong);
  const auto row = ((hi - p.select(1, 1)) / cell).floor().clamp(0, cells - 1).to(torch::kLong);
  const auto counts = torch::bincount(row * cells + col, {}, cells * cells).to(torch::kFloat64).contiguous();
  const double densest = std::max(counts.max().item<double>(), 1.0);

  Panel panel;
  panel.raster.width = panel.raster.height = cells;
  panel.raster.rgb.resize(static_cast<std::size_t>(cells) * cells * 3);
  const double* curl_at = curl.data_ptr<double>();
  const double* count_at = counts.data_ptr<double>();
  for (int64_t i = 0; i < static_cast<int64_t>(cells) * cells; ++i) {
    Rgb colour = diverging(curl_at[i] / scale);
    // Darken by up to 45% where the points are densest (sqrt: faint regions stay visible).
    const double shade = 1.0 - 0.45 * std::sqrt(count_at[i] / densest);
    for (int c = 0; c < 3; ++c) panel.raster.rgb[i * 3 + c] = static_cast<uint8_t>(std::lround(colour[c] * shade));
  }
  panel.range = Range{lo, hi, lo, hi};
  panel.equal_aspect = true;
  panel.x_label = "x1";
  panel.y_label = "x2";

  ColourBar bar;
  bar.label = "curl (darker: more points)";
  for (int i = 0; i <= 64; ++i) bar.colours.push_back(diverging(-1.0 + 2.0 * i / 64.0));
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", scale);
  bar.ticks = {{0.0, std::string("-") + text}, {0.5, "0"}, {1.0, std::string("+") + text}};
  panel.colour_bar = bar;

  // Arrows, the longest 0.9 of the grid spacing.
  const double spacing = (hi - lo) / kArrows;
  const auto arrow_centres = lo + (torch::arange(kArrows, torch::kFloat64) + 0.5) * spacing;
  const auto arrow_grid = torch::stack(torch::meshgrid({arrow_centres, arrow_centres}, "ij"), -1).reshape({-1, 2});
  const auto vectors = evaluate(arrow_grid);
  const double longest = std::max(vectors.norm(2, 1).max().item<double>(), 1e-12);
  const double length = 0.9 * spacing / longest;
  const std::vector<double> ax = to_vector(arrow_grid.select(1, 0)), ay = to_vector(arrow_grid.select(1, 1));
  const std::vector<double> u = to_vector(vectors.select(1, 0)), v = to_vector(vectors.select(1, 1));
  for (std::size_t i = 0; i < ax.size(); ++i) panel.arrows.push_back({ax[i], ay[i], u[i] * length, v[i] * length});

  // The curl grid with y increasing by row (as numpy/matplotlib's origin="lower" expects).
  JsonArray curl_rows;
  const torch::Tensor curl_up = curl.reshape({cells, cells}).flip(0).contiguous();
  for (int r = 0; r < cells; ++r) curl_rows.push(JsonArray(to_vector(curl_up[r])));
  panel.data.add("curl", JsonObject()
                             .add("x", JsonArray(to_vector(centres)))
                             .add("y", JsonArray(to_vector(centres)))
                             .add("values", curl_rows)
                             .add("saturation", scale));
  panel.data.add("field", JsonObject().add("x", JsonArray(ax)).add("y", JsonArray(ay)).add("u", JsonArray(u)).add("v", JsonArray(v)));
  return panel;
}

}  // namespace flowlab::io
