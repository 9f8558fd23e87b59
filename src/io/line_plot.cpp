#include "flowlab/io/line_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "flowlab/core/error.h"
#include "canvas.h"

// stb_easy_font's functions are static: private to this file (and not all of them used).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace flowlab::io {
namespace {

constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kGrey{200, 200, 200};
constexpr double kTextScale = 1.6;  // stb_easy_font's glyphs are about 7 px tall
constexpr int kLeft = 92, kRight = 24, kTop = 44, kBottom = 64;
constexpr int kLegendLine = 18;

// Text through stb_easy_font's quads, scaled.
void draw_text(Canvas& canvas, double x, double y, const std::string& s, const Rgb& c, double scale = kTextScale) {
  std::vector<char> buffer(s.size() * 400 + 64);
  std::string copy = s;
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, buffer.data(), static_cast<int>(buffer.size()));
  for (int q = 0; q < quads; ++q) {
    const float* v0 = reinterpret_cast<const float*>(buffer.data() + q * 64);
    const float* v2 = reinterpret_cast<const float*>(buffer.data() + q * 64 + 32);
    canvas.fill(x + scale * v0[0], y + scale * v0[1], x + scale * v2[0], y + scale * v2[1], c);
  }
}

double text_width(const std::string& s, double scale = kTextScale) {
  std::string copy = s;
  return scale * stb_easy_font_width(copy.data());
}

std::string format_tick(double v) {
  char out[32];
  std::snprintf(out, sizeof out, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  return out;
}

// Ticks of a linear axis: multiples of 1, 2 or 5 x 10^k, about five of them.
std::vector<double> linear_ticks(double lo, double hi) {
  const double raw = (hi - lo) / 5.0;
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  double step = decade;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * decade >= raw) {
      step = m * decade;
      break;
    }
  }
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push_back(v);
  return ticks;
}

struct Axis {
  double lo, hi;
  bool log;
  double map(double v, double pixel_lo, double pixel_hi) const {
    const double u = log ? (std::log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
    return pixel_lo + u * (pixel_hi - pixel_lo);
  }
};

Axis axis_over(const std::vector<double>& values, bool log) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v) || (log && v <= 0)) continue;
    const double w = log ? std::log10(v) : v;
    lo = std::min(lo, w), hi = std::max(hi, w);
  }
  if (!std::isfinite(lo)) lo = 0.0, hi = 1.0;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  if (log) return {std::floor(lo), std::ceil(hi), true};
  const double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad, false};
}

bool drawable(double x, double y, const Axis& ax) { return std::isfinite(x) && std::isfinite(y) && (!ax.log || x > 0); }

}  // namespace

std::array<uint8_t, 3> series_colour(std::size_t index) {
  static const Rgb kTab10[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                               {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return kTab10[index % 10];
}

Image line_plot(const std::vector<Series>& series, const LinePlotOptions& options) {
  if (options.width < kLeft + kRight + 50 || options.height < kTop + kBottom + 50) {
    throw Error("line plot: the image is too small");
  }
  std::vector<double> xs, ys;
  for (const auto& s : series) {
    if (s.x.size() != s.y.size() || (!s.y_error.empty() && s.y_error.size() != s.y.size())) {
      throw Error("line plot: series '" + s.label + "' needs as many x as y values (and errors)");
    }
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    if (s.bar_width > 0) {
      ys.push_back(0.0);
      for (double x : s.x) xs.push_back(x - 0.5 * s.bar_width), xs.push_back(x + 0.5 * s.bar_width);
    }
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      const double e = s.y_error.empty() ? 0.0 : s.y_error[i];
      ys.push_back(s.y[i] - e), ys.push_back(s.y[i] + e);
    }
  }
  const Axis ax = axis_over(xs, options.log_x), ay = axis_over(ys, false);
  // The legend goes below the chart, one line per labelled series, so it never hides data.
  int labelled = 0;
  for (const auto& s : series) labelled += !s.label.empty();
  Canvas canvas(options.width, options.height + kLegendLine * labelled + (labelled ? 8 : 0));
  const double left = kLeft, right = options.width - kRight, top = kTop, bottom = options.height - kBottom;
  const auto px = [&](double x) { return ax.map(x, left, right); };
  const auto py = [&](double y) { return ay.map(y, bottom, top); };

  // Grid, ticks and their labels.
  std::vector<double> x_ticks;
  if (ax.log) {
    const int decades = static_cast<int>(ax.hi - ax.lo);
    const int step = std::max(1, decades / 8 + (decades % 8 != 0 && decades > 8));
    for (int e = static_cast<int>(ax.lo); e <= static_cast<int>(ax.hi); e += step) x_ticks.push_back(std::pow(10.0, e));
  } else {
    x_ticks = linear_ticks(ax.lo, ax.hi);
  }
  for (double v : x_ticks) {
    const double x = px(v);
    canvas.line(x, top, x, bottom, kGrey);
    char label[32];
    if (ax.log) std::snprintf(label, sizeof label, "1e%d", static_cast<int>(std::lround(std::log10(v))));
    const std::string text = ax.log ? std::string(label) : format_tick(v);
    draw_text(canvas, x - 0.5 * text_width(text), bottom + 8, text, kBlack);
  }
  for (double v : linear_ticks(ay.lo, ay.hi)) {
    const double y = py(v);
    canvas.line(left, y, right, y, kGrey);
    const std::string text = format_tick(v);
    draw_text(canvas, left - 8 - text_width(text), y - 5, text, kBlack);
  }
  canvas.line(left, top, right, top, kBlack);
  canvas.line(left, bottom, right, bottom, kBlack);
  canvas.line(left, top, left, bottom, kBlack);
  canvas.line(right, top, right, bottom, kBlack);
  draw_text(canvas, 0.5 * (left + right - text_width(options.title, 2.0)), 12, options.title, kBlack, 2.0);
  draw_text(canvas, 0.5 * (left + right - text_width(options.x_label)), bottom + 34, options.x_label, kBlack);
  draw_text(canvas, 8, top - 18, options.y_label, kBlack);

  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!drawable(s.x[i], s.y[i], ax)) continue;
      const double x = px(s.x[i]), y = py(s.y[i]);
      if (s.bar_width > 0) {
        const double x0 = px(s.x[i] - 0.5 * s.bar_width), x1 = px(s.x[i] + 0.5 * s.bar_width);
        canvas.fill(x0, std::min(y, py(0.0)), x1, std::max(y, py(0.0)), s.colour);
      }
      if (s.line && i + 1 < s.x.size() && drawable(s.x[i + 1], s.y[i + 1], ax)) {
        canvas.line(x, y, px(s.x[i + 1]), py(s.y[i + 1]), s.colour, 2.0);
      }
      if (!s.y_error.empty() && s.y_error[i] > 0) {
        canvas.line(x, py(s.y[i] - s.y_error[i]), x, py(s.y[i] + s.y_error[i]), s.colour, 1.0);
      }
      if (s.markers) canvas.fill(x - 3, y - 3, x + 3, y + 3, s.colour);
    }
  }
  double y = options.height;
  for (const auto& s : series) {
    if (s.label.empty()) continue;
    canvas.line(left + 10, y + 5, left + 34, y + 5, s.colour, 3.0);
    draw_text(canvas, left + 40, y, s.label, kBlack);
    y += kLegendLine;
  }
  return canvas.image;
}

}  // namespace flowlab::io
