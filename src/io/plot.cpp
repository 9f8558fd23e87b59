#include "flowlab/io/plot.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "flowlab/core/error.h"

namespace flowlab::io {
namespace {

// matplotlib's "magma" sampled at 0, 1/8, ..., 1 and linearly interpolated: a
// perceptually uniform map from near-black (sparse) to pale yellow (dense).
constexpr std::array<Rgb, 9> kMagmaAnchors = {{
    {0, 0, 4},
    {29, 17, 71},
    {81, 18, 124},
    {131, 38, 129},
    {183, 55, 121},
    {231, 82, 99},
    {252, 137, 97},
    {254, 196, 136},
    {252, 253, 191},
}};
constexpr Rgb kEmpty = {0, 0, 0};
// The least dense non-empty pixel starts this far up the colour map, so it stays
// visible against the black background.
constexpr double kFloorLevel = 0.2;

Rgb magma(double level) {
  level = std::clamp(level, 0.0, 1.0) * (kMagmaAnchors.size() - 1);
  const std::size_t below = std::min<std::size_t>(static_cast<std::size_t>(level), kMagmaAnchors.size() - 2);
  const double frac = level - static_cast<double>(below);
  Rgb out{};
  for (int c = 0; c < 3; ++c) {
    const double value = (1.0 - frac) * kMagmaAnchors[below][c] + frac * kMagmaAnchors[below + 1][c];
    out[c] = static_cast<uint8_t>(std::lround(value));
  }
  return out;
}

void check_points(const torch::Tensor& points, const char* what) {
  TORCH_CHECK(points.defined() && points.dim() == 2 && points.size(1) >= 2, what,
              ": expected points [N, >=2], got ", points.defined() ? points.sizes() : torch::IntArrayRef{});
}

// First two coordinates as CPU float64, rows with a non-finite value dropped.
torch::Tensor finite_xy(const torch::Tensor& points) {
  torch::Tensor xy = points.detach().narrow(1, 0, 2).to(torch::kCPU, torch::kFloat64);
  return xy.index({torch::isfinite(xy).all(1)});
}

// Shared square range [lo, hi]^2 covering the central 99% of each coordinate of
// the pooled clouds, padded by 5%: a few outliers do not shrink the picture.
std::pair<double, double> robust_range(const torch::Tensor& xy) {
  if (xy.size(0) == 0) return {-1.0, 1.0};
  const torch::Tensor sorted = std::get<0>(xy.sort(0));
  const int64_t n = sorted.size(0);
  const auto quantile_row = [&](double q) {
    return sorted[static_cast<int64_t>(std::llround(q * static_cast<double>(n - 1)))];
  };
  double lo = quantile_row(0.005).min().item<double>();
  double hi = quantile_row(0.995).max().item<double>();
  const double span = hi - lo;
  if (!(span > 1e-12 * std::max(1.0, std::abs(lo)))) {
    // All points (nearly) coincide: centre a unit square on them.
    return {lo - 1.0, lo + 1.0};
  }
  return {lo - 0.05 * span, hi + 0.05 * span};
}

}  // namespace

namespace {

struct Density {
  Image image;
  int64_t max_count = 0;
};

Density density_of(const torch::Tensor& points, double lo, double hi, int pixels) {
  check_points(points, "density_image");
  TORCH_CHECK(pixels > 0 && pixels <= 16384, "density_image: pixels must be in [1, 16384], got ", pixels);
  TORCH_CHECK(std::isfinite(lo) && std::isfinite(hi) && hi > lo, "density_image: need lo < hi, got [", lo, ", ",
              hi, "]");
  torch::NoGradGuard no_grad;
  const torch::Tensor xy = finite_xy(points);

  // Column from x, row from y with y pointing up (row 0 is the top edge).
  const double scale = pixels / (hi - lo);
  const torch::Tensor col = ((xy.select(1, 0) - lo) * scale).floor();
  const torch::Tensor row = ((hi - xy.select(1, 1)) * scale).floor();
  const torch::Tensor inside = (col >= 0) & (col < pixels) & (row >= 0) & (row < pixels);
  const torch::Tensor cell = (row.index({inside}) * pixels + col.index({inside})).to(torch::kLong);
  const torch::Tensor counts =
      torch::zeros({static_cast<int64_t>(pixels) * pixels}, torch::kLong).index_add_(0, cell, torch::ones_like(cell));

  Image image;
  image.width = pixels;
  image.height = pixels;
  image.rgb.resize(static_cast<std::size_t>(pixels) * pixels * 3);
  const int64_t* count = counts.data_ptr<int64_t>();
  const int64_t max_count = counts.numel() > 0 ? counts.max().item<int64_t>() : 0;
  const double log_max = std::log(static_cast<double>(std::max<int64_t>(max_count, 1)));
  for (int64_t i = 0; i < counts.numel(); ++i) {
    Rgb colour = kEmpty;
    if (count[i] > 0) {
      // Log scale: one point and the densest pixel span [kFloorLevel, 1].
      const double level =
          log_max > 0 ? kFloorLevel + (1.0 - kFloorLevel) * std::log(static_cast<double>(count[i])) / log_max : 1.0;
      colour = magma(level);
    }
    std::memcpy(&image.rgb[static_cast<std::size_t>(i) * 3], colour.data(), 3);
  }
  return {image, max_count};
}

// The colour bar of a log-scaled density: the map from one point (kFloorLevel) to the densest
// bin, ticks at 1, the powers of ten between and the maximum.
ColourBar density_colour_bar(int64_t max_count) {
  ColourBar bar;
  bar.label = "points per bin (log scale)";
  for (int i = 0; i <= 64; ++i) bar.colours.push_back(magma(kFloorLevel + (1.0 - kFloorLevel) * i / 64.0));
  const double log_max = std::log(static_cast<double>(std::max<int64_t>(max_count, 1)));
  bar.ticks.emplace_back(0.0, "1");
  if (log_max <= 0) return bar;
  for (int64_t p = 10; p < max_count; p *= 10) {
    const double at = std::log(static_cast<double>(p)) / log_max;
    if (at > 0.12 && at < 0.88) bar.ticks.emplace_back(at, std::to_string(p));
  }
  bar.ticks.emplace_back(1.0, std::to_string(max_count));
  return bar;
}

}  // namespace

Image density_image(const torch::Tensor& points, double lo, double hi, int pixels) {
  return density_of(points, lo, hi, pixels).image;
}

Panel density_panel(const torch::Tensor& points, double lo, double hi, int pixels, const std::string& title) {
  const Density density = density_of(points, lo, hi, pixels);
  Panel panel;
  panel.title = title;
  panel.x_label = "x1";
  panel.y_label = "x2";
  panel.raster = density.image;
  panel.range = Range{lo, hi, lo, hi};
  panel.equal_aspect = true;
  panel.colour_bar = density_colour_bar(density.max_count);
  torch::NoGradGuard no_grad;
  const torch::Tensor xy = finite_xy(points).contiguous();
  const double* v = xy.data_ptr<double>();
  std::vector<double> x(static_cast<std::size_t>(xy.size(0))), y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = v[2 * i], y[i] = v[2 * i + 1];
  panel.data.add("bins", pixels).add("points", JsonObject().add("x", JsonArray(x)).add("y", JsonArray(y)));
  return panel;
}

Figure samples_beside_data_figure(const torch::Tensor& samples, const torch::Tensor& data, int pixels) {
  check_points(samples, "plot_samples_beside_data (samples)");
  check_points(data, "plot_samples_beside_data (data)");
  torch::NoGradGuard no_grad;
  const torch::Tensor data_xy = finite_xy(data);
  const torch::Tensor sample_xy = finite_xy(samples);
  const auto [lo, hi] = robust_range(torch::cat({data_xy, sample_xy}, 0));
  Figure figure;
  figure.panels.push_back(density_panel(data_xy, lo, hi, pixels, "data (" + std::to_string(data_xy.size(0)) + ")"));
  figure.panels.push_back(
      density_panel(sample_xy, lo, hi, pixels, "samples (" + std::to_string(sample_xy.size(0)) + ")"));
  // A plot area of 400 x 400 pixels: whole bins of 2 pixels at the default 200 bins.
  figure.panel_width = 400 + 178, figure.panel_height = 400 + 84;
  return figure;
}

FigureFiles plot_samples_beside_data(const std::string& path, const torch::Tensor& samples, const torch::Tensor& data,
                                     int pixels) {
  return write_figure(path, samples_beside_data_figure(samples, data, pixels));
}

}  // namespace flowlab::io
