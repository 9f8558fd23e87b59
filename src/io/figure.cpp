#include "flowlab/io/figure.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

#include "flowlab/core/error.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/figure_layout.h"

namespace flowlab::io {
namespace {

constexpr const char* kFontFace = "DejaVu Sans";
constexpr double kTitleSize = 15, kLabelSize = 13, kTickSize = 11.5;
constexpr double kLeftMargin = 78, kRightMargin = 22, kTopMargin = 34, kBottomMargin = 50;
constexpr double kColourBarSpace = 78, kColourBarWidth = 14;
constexpr double kLegendLine = 19, kLegendPad = 8;
constexpr double kFigureTitleHeight = 30;
constexpr double kTickLength = 4;
constexpr Rgb kBlack{0, 0, 0}, kGridGrey{225, 225, 225}, kTextGrey{40, 40, 40};

using CairoSurface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using CairoContext = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

void set_colour(cairo_t* cr, const Rgb& c, double alpha = 1.0) {
  cairo_set_source_rgba(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, alpha);
}

enum class Align { kLeft, kCentre, kRight };

// Text with its baseline's anchor at (x, y), optionally turned by -90 degrees (reading upwards).
void draw_text(cairo_t* cr, double x, double y, const std::string& text, double size, Align align,
               bool upwards = false, bool bold = false) {
  if (text.empty()) return;
  cairo_save(cr);
  cairo_select_font_face(cr, kFontFace, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  cairo_translate(cr, x, y);
  if (upwards) cairo_rotate(cr, -M_PI / 2);
  const double shift = align == Align::kLeft ? 0.0 : align == Align::kCentre ? 0.5 * extents.x_advance : extents.x_advance;
  cairo_move_to(cr, -shift, 0);
  set_colour(cr, kTextGrey);
  cairo_show_text(cr, text.c_str());
  cairo_restore(cr);
}

double text_width(cairo_t* cr, const std::string& text, double size) {
  cairo_save(cr);
  cairo_select_font_face(cr, kFontFace, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  cairo_restore(cr);
  return extents.x_advance;
}

std::string format_tick(double v) {
  char out[32];
  std::snprintf(out, sizeof out, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  return out;
}

// A power of ten as "10" with a raised, smaller exponent, centred on x.
void draw_power_of_ten(cairo_t* cr, double x, double y, int exponent) {
  const std::string base = "10", power = std::to_string(exponent);
  const double wb = text_width(cr, base, kTickSize), wp = text_width(cr, power, 0.75 * kTickSize);
  const double left = x - 0.5 * (wb + wp);
  draw_text(cr, left, y, base, kTickSize, Align::kLeft);
  draw_text(cr, left + wb, y - 0.45 * kTickSize, power, 0.75 * kTickSize, Align::kLeft);
}

bool finite_on(double x, double y, const Axis& ax) { return std::isfinite(x) && std::isfinite(y) && (!ax.log || x > 0); }

// Pixels of an Image as a cairo surface (cairo's RGB24: one native-endian 32-bit word per pixel).
CairoSurface raster_surface(const Image& image) {
  CairoSurface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, image.width, image.height),
                       cairo_surface_destroy);
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) throw Error("figure: cannot allocate a raster");
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < image.height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < image.width; ++x) {
      const Rgb p = image.pixel(x, y);
      row[x] = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[2]};
    }
  }
  cairo_surface_mark_dirty(surface.get());
  return surface;
}

void draw_raster(cairo_t* cr, const Image& image, double left, double top, double width, double height) {
  const CairoSurface surface = raster_surface(image);
  cairo_save(cr);
  cairo_rectangle(cr, left, top, width, height);
  cairo_clip(cr);
  cairo_translate(cr, left, top);
  cairo_scale(cr, width / image.width, height / image.height);
  cairo_set_source_surface(cr, surface.get(), 0, 0);
  // Each raster pixel is a datum (a histogram bin, a curl cell, an image pixel): keep its edges.
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
}

void draw_arrow(cairo_t* cr, double x0, double y0, double x1, double y1) {
  const double length = std::hypot(x1 - x0, y1 - y0);
  if (length < 0.5) return;
  const double head = std::min(5.0, 0.4 * length), ux = (x1 - x0) / length, uy = (y1 - y0) / length;
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, x1 - 0.7 * head * ux, y1 - 0.7 * head * uy);
  cairo_stroke(cr);
  // A filled head, 2 * 0.45 head wide at its base.
  cairo_move_to(cr, x1, y1);
  cairo_line_to(cr, x1 - head * ux - 0.45 * head * uy, y1 - head * uy + 0.45 * head * ux);
  cairo_line_to(cr, x1 - head * ux + 0.45 * head * uy, y1 - head * uy - 0.45 * head * ux);
  cairo_close_path(cr);
  cairo_fill(cr);
}

void draw_series(cairo_t* cr, const Series& s, const PlotArea& a) {
  const auto px = [&](double x) { return a.x_pixel(x); };
  const auto py = [&](double y) { return a.y_pixel(y); };
  set_colour(cr, s.colour);
  if (s.bar_width > 0) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!finite_on(s.x[i], s.y[i], a.x)) continue;
      const double x0 = px(s.x[i] - 0.5 * s.bar_width), x1 = px(s.x[i] + 0.5 * s.bar_width);
      const double y0 = py(0.0), y1 = py(s.y[i]);
      cairo_rectangle(cr, std::min(x0, x1), std::min(y0, y1), std::abs(x1 - x0), std::abs(y1 - y0));
    }
    cairo_fill(cr);
  }
  if (s.line) {
    // Non-finite points break the line into pieces.
    cairo_set_line_width(cr, 1.8);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, s.dashed ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
    const double dash[] = {7.0, 4.0};
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0.0);
    bool open = false;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!finite_on(s.x[i], s.y[i], a.x)) {
        open = false;
        continue;
      }
      if (open) {
        cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
      } else {
        cairo_move_to(cr, px(s.x[i]), py(s.y[i]));
        open = true;
      }
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0.0);
  }
  if (!s.y_error.empty()) {
    cairo_set_line_width(cr, 1.0);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!finite_on(s.x[i], s.y[i], a.x) || !(s.y_error[i] > 0) || !std::isfinite(s.y_error[i])) continue;
      // On a pixel's centre, so the one-pixel line is crisp rather than two half-tone columns.
      const double x = std::floor(px(s.x[i])) + 0.5, lo = py(s.y[i] - s.y_error[i]), hi = py(s.y[i] + s.y_error[i]);
      cairo_move_to(cr, x, lo), cairo_line_to(cr, x, hi);
      cairo_move_to(cr, x - 3, lo), cairo_line_to(cr, x + 3, lo);
      cairo_move_to(cr, x - 3, hi), cairo_line_to(cr, x + 3, hi);
    }
    cairo_stroke(cr);
  }
  if (s.markers) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!finite_on(s.x[i], s.y[i], a.x)) continue;
      cairo_new_sub_path(cr);
      cairo_arc(cr, px(s.x[i]), py(s.y[i]), 3.2, 0, 2 * M_PI);
    }
    cairo_fill(cr);
  }
}

void draw_ticks(cairo_t* cr, const Panel& panel, const PlotArea& a) {
  const double left = a.left, right = a.left + a.width, top = a.top, bottom = a.top + a.height;
  const bool grid = panel.raster.empty();
  cairo_set_line_width(cr, 1.0);
  for (double v : x_ticks(a.x)) {
    const double x = std::round(a.x_pixel(v)) + 0.5;
    if (grid) {
      set_colour(cr, kGridGrey);
      cairo_move_to(cr, x, top), cairo_line_to(cr, x, bottom);
      cairo_stroke(cr);
    }
    set_colour(cr, kBlack);
    cairo_move_to(cr, x, bottom), cairo_line_to(cr, x, bottom + kTickLength);
    cairo_stroke(cr);
    if (a.x.log) {
      draw_power_of_ten(cr, x, bottom + kTickLength + 15, static_cast<int>(std::lround(std::log10(v))));
    } else {
      draw_text(cr, x, bottom + kTickLength + 13, format_tick(v), kTickSize, Align::kCentre);
    }
  }
  for (double v : linear_ticks(a.y.lo, a.y.hi)) {
    const double y = std::round(a.y_pixel(v)) + 0.5;
    if (grid) {
      set_colour(cr, kGridGrey);
      cairo_move_to(cr, left, y), cairo_line_to(cr, right, y);
      cairo_stroke(cr);
    }
    set_colour(cr, kBlack);
    cairo_move_to(cr, left - kTickLength, y), cairo_line_to(cr, left, y);
    cairo_stroke(cr);
    draw_text(cr, left - kTickLength - 3, y + 4, format_tick(v), kTickSize, Align::kRight);
  }
}

void draw_colour_bar(cairo_t* cr, const ColourBar& bar, const PlotArea& a) {
  if (bar.colours.empty()) return;
  const double left = a.left + a.width + 12, top = a.top, height = a.height;
  const double step = height / static_cast<double>(bar.colours.size());
  for (std::size_t i = 0; i < bar.colours.size(); ++i) {
    set_colour(cr, bar.colours[i]);
    // Bottom to top; each band overlaps the next by a hair so no seams show.
    cairo_rectangle(cr, left, top + height - (i + 1) * step, kColourBarWidth, step + 0.5);
    cairo_fill(cr);
  }
  set_colour(cr, kBlack);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, left + 0.5, top + 0.5, kColourBarWidth - 1, height - 1);
  cairo_stroke(cr);
  for (const auto& [at, text] : bar.ticks) {
    const double y = top + height * (1.0 - std::clamp(at, 0.0, 1.0));
    cairo_move_to(cr, left + kColourBarWidth, y), cairo_line_to(cr, left + kColourBarWidth + 3, y);
    cairo_stroke(cr);
    draw_text(cr, left + kColourBarWidth + 5, y + 4, text, kTickSize - 1, Align::kLeft);
  }
  draw_text(cr, left + kColourBarWidth + 60, top + 0.5 * height, bar.label, kLabelSize - 1, Align::kCentre, true);
}

void draw_legend(cairo_t* cr, const Panel& panel, const PlotArea& a) {
  double y = a.top + a.height + kBottomMargin + kLegendPad;
  for (const Series& s : panel.series) {
    if (s.label.empty()) continue;
    const double x = a.left + 6, mid = y + 0.5 * kLegendLine;
    set_colour(cr, s.colour);
    if (s.bar_width > 0) {
      cairo_rectangle(cr, x, mid - 5, 24, 10);
      cairo_fill(cr);
    } else if (s.line) {
      cairo_set_line_width(cr, 2.4);
      const double dash[] = {7.0, 4.0};
      cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0.0);
      cairo_move_to(cr, x, mid), cairo_line_to(cr, x + 24, mid);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0.0);
    }
    if (s.markers) {
      cairo_arc(cr, x + 12, mid, 3.2, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    draw_text(cr, x + 32, mid + 4.5, s.label, kLabelSize - 1, Align::kLeft);
    y += kLegendLine;
  }
}

void draw_panel(cairo_t* cr, const Panel& panel, const PlotArea& a) {
  if (panel.bare) {
    draw_raster(cr, panel.raster, a.left, a.top, a.width, a.height);
    return;
  }
  const double left = a.left, top = a.top, width = a.width, height = a.height;
  if (!panel.raster.empty()) draw_raster(cr, panel.raster, left, top, width, height);
  draw_ticks(cr, panel, a);

  cairo_save(cr);
  cairo_rectangle(cr, left, top, width, height);
  cairo_clip(cr);
  for (const Series& s : panel.series) draw_series(cr, s, a);
  if (!panel.arrows.empty()) {
    set_colour(cr, {20, 20, 20});
    cairo_set_line_width(cr, 1.0);
    for (const Arrow& arrow : panel.arrows) {
      draw_arrow(cr, a.x_pixel(arrow.x), a.y_pixel(arrow.y), a.x_pixel(arrow.x + arrow.dx), a.y_pixel(arrow.y + arrow.dy));
    }
  }
  cairo_restore(cr);

  set_colour(cr, kBlack);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, std::round(left) + 0.5, std::round(top) + 0.5, std::round(width) - 1, std::round(height) - 1);
  cairo_stroke(cr);
  draw_text(cr, left + 0.5 * width, top - 12, panel.title, kTitleSize, Align::kCentre, false, true);
  draw_text(cr, left + 0.5 * width, top + height + 40, panel.x_label, kLabelSize, Align::kCentre);
  draw_text(cr, left - kLeftMargin + 16, top + 0.5 * height, panel.y_label, kLabelSize, Align::kCentre, true);
  if (panel.colour_bar) draw_colour_bar(cr, *panel.colour_bar, a);
  draw_legend(cr, panel, a);
}

void check_figure(const Figure& figure) {
  if (figure.panels.empty()) throw Error("figure: no panels");
  if (figure.panel_width < kLeftMargin + kRightMargin + kColourBarSpace + 40 ||
      figure.panel_height < kTopMargin + kBottomMargin + 40) {
    throw Error("figure: panels of " + std::to_string(figure.panel_width) + "x" + std::to_string(figure.panel_height) +
                " are too small");
  }
  for (const Panel& panel : figure.panels) {
    for (const Series& s : panel.series) {
      if (s.x.size() != s.y.size() || (!s.y_error.empty() && s.y_error.size() != s.y.size())) {
        throw Error("figure: series '" + s.label + "' needs as many x as y values (and errors)");
      }
    }
    if (!panel.raster.empty() &&
        panel.raster.rgb.size() != static_cast<std::size_t>(panel.raster.width) * panel.raster.height * 3) {
      throw Error("figure: a raster of " + std::to_string(panel.raster.width) + "x" +
                  std::to_string(panel.raster.height) + " pixels has " + std::to_string(panel.raster.rgb.size()) +
                  " bytes");
    }
    if (panel.bare && panel.raster.empty()) throw Error("figure: a bare panel needs a raster");
    if (!panel.bare && !panel.raster.empty() && !panel.range) throw Error("figure: a raster needs the panel's range");
  }
}

void draw_figure(cairo_t* cr, const Figure& figure, const FigureLayout& layout) {
  set_colour(cr, {255, 255, 255});
  cairo_paint(cr);
  if (!figure.title.empty()) {
    draw_text(cr, 0.5 * layout.width, 21, figure.title, kTitleSize + 1, Align::kCentre, false, true);
  }
  for (std::size_t i = 0; i < figure.panels.size(); ++i) draw_panel(cr, figure.panels[i], layout.areas[i]);
}

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

CairoSurface draw_to_image(const Figure& figure, const FigureLayout& layout) {
  CairoSurface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(std::ceil(layout.width)),
                                                  static_cast<int>(std::ceil(layout.height))),
                       cairo_surface_destroy);
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) throw Error("figure: cannot allocate the image");
  const CairoContext cr(cairo_create(surface.get()), cairo_destroy);
  draw_figure(cr.get(), figure, layout);
  if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
    throw Error(std::string("figure: drawing failed: ") + cairo_status_to_string(cairo_status(cr.get())));
  }
  cairo_surface_flush(surface.get());
  return surface;
}

std::string encode_png(const Figure& figure, const FigureLayout& layout) {
  const CairoSurface surface = draw_to_image(figure, layout);
  std::string bytes;
  const cairo_status_t status = cairo_surface_write_to_png_stream(surface.get(), append_to_string, &bytes);
  if (status != CAIRO_STATUS_SUCCESS) throw Error(std::string("PNG encoding failed: ") + cairo_status_to_string(status));
  return bytes;
}

std::string encode_svg(const Figure& figure, const FigureLayout& layout) {
  std::string bytes;
  {
    CairoSurface surface(cairo_svg_surface_create_for_stream(append_to_string, &bytes, layout.width, layout.height),
                         cairo_surface_destroy);
    const CairoContext cr(cairo_create(surface.get()), cairo_destroy);
    draw_figure(cr.get(), figure, layout);
    cairo_surface_finish(surface.get());
    const cairo_status_t status = cairo_surface_status(surface.get());
    if (status != CAIRO_STATUS_SUCCESS) throw Error(std::string("SVG encoding failed: ") + cairo_status_to_string(status));
  }
  return bytes;
}

JsonArray json_numbers(const std::vector<double>& values) { return JsonArray(values); }

JsonObject series_json(const Series& s) {
  JsonObject out;
  out.add("label", s.label).add("x", json_numbers(s.x)).add("y", json_numbers(s.y));
  if (!s.y_error.empty()) out.add("y_error", json_numbers(s.y_error));
  std::string style = s.bar_width > 0 ? "bars" : s.line && s.markers ? "line+markers" : s.line ? "line" : "markers";
  if (s.line && s.dashed) style += " (dashed)";
  out.add("style", style);
  if (s.bar_width > 0) out.add("bar_width", s.bar_width);
  char colour[8];
  std::snprintf(colour, sizeof colour, "#%02x%02x%02x", s.colour[0], s.colour[1], s.colour[2]);
  out.add("colour", std::string(colour));
  return out;
}

}  // namespace

Rgb series_colour(std::size_t index) {
  static const Rgb kTab10[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                               {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return kTab10[index % 10];
}

std::vector<double> linear_ticks(double lo, double hi) {
  const double raw = (hi - lo) / 5.0;
  if (!(raw > 0) || !std::isfinite(raw)) return {};
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * decade;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * decade >= raw) {
      step = m * decade;
      break;
    }
  }
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step); k * step <= hi + 1e-9 * step; k += 1.0) ticks.push_back(k * step);
  return ticks;
}

std::vector<double> x_ticks(const Axis& axis) {
  if (!axis.log) return linear_ticks(axis.lo, axis.hi);
  std::vector<double> ticks;
  const int decades = static_cast<int>(std::lround(axis.hi - axis.lo));
  const int step = std::max(1, (decades + 7) / 8);
  for (int e = static_cast<int>(std::lround(axis.lo)); e <= static_cast<int>(std::lround(axis.hi)); e += step) {
    ticks.push_back(std::pow(10.0, e));
  }
  return ticks;
}

double Axis::fraction(double v) const { return log ? (std::log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo); }

Axis axis_over(const std::vector<double>& values, bool log) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v) || (log && v <= 0)) continue;
    const double w = log ? std::log10(v) : v;
    lo = std::min(lo, w), hi = std::max(hi, w);
  }
  if (!std::isfinite(lo)) lo = 0.0, hi = 1.0;
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) lo -= 0.5, hi += 0.5;
  if (log) return {std::floor(lo), std::ceil(hi), true};
  const double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad, false};
}

std::pair<Axis, Axis> panel_axes(const Panel& panel) {
  if (panel.range) {
    const Range& r = *panel.range;
    if (!(r.x_hi > r.x_lo) || !(r.y_hi > r.y_lo) || !std::isfinite(r.x_lo + r.x_hi + r.y_lo + r.y_hi)) {
      throw Error("figure: panel '" + panel.title + "' has an empty or non-finite range");
    }
    if (panel.log_x && !(r.x_lo > 0)) throw Error("figure: panel '" + panel.title + "' has a log axis from x <= 0");
    return {panel.log_x ? Axis{std::log10(r.x_lo), std::log10(r.x_hi), true} : Axis{r.x_lo, r.x_hi, false},
            Axis{r.y_lo, r.y_hi, false}};
  }
  std::vector<double> xs, ys;
  for (const Series& s : panel.series) {
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    if (s.bar_width > 0) {
      ys.push_back(0.0);
      for (double x : s.x) xs.push_back(x - 0.5 * s.bar_width), xs.push_back(x + 0.5 * s.bar_width);
    }
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      const double e = s.y_error.empty() || !std::isfinite(s.y_error[i]) ? 0.0 : s.y_error[i];
      ys.push_back(s.y[i] - e), ys.push_back(s.y[i] + e);
    }
  }
  for (const Arrow& a : panel.arrows) xs.push_back(a.x), xs.push_back(a.x + a.dx), ys.push_back(a.y), ys.push_back(a.y + a.dy);
  return {axis_over(xs, panel.log_x), axis_over(ys, false)};
}

FigureLayout figure_layout(const Figure& figure) {
  check_figure(figure);
  FigureLayout layout;
  const double title = figure.title.empty() ? 0.0 : kFigureTitleHeight;
  double x = 0.0, height = 0.0;
  for (const Panel& panel : figure.panels) {
    PlotArea a;
    if (panel.bare) {
      a.left = x, a.top = title, a.width = panel.raster.width, a.height = panel.raster.height;
      a.x = {0.0, 1.0, false}, a.y = {0.0, 1.0, false};
      x += a.width;
      height = std::max(height, title + a.height);
      layout.areas.push_back(a);
      continue;
    }
    std::tie(a.x, a.y) = panel_axes(panel);
    const double right_space = kRightMargin + (panel.colour_bar ? kColourBarSpace : 0.0);
    double width = figure.panel_width - kLeftMargin - right_space;
    double plot_height = figure.panel_height - kTopMargin - kBottomMargin;
    a.left = x + kLeftMargin, a.top = title + kTopMargin;
    if (panel.equal_aspect && !a.x.log) {
      // Shrink one side so a data unit is as long across as up, centred in the space.
      const double unit = std::min(width / (a.x.hi - a.x.lo), plot_height / (a.y.hi - a.y.lo));
      const double w = unit * (a.x.hi - a.x.lo), h = unit * (a.y.hi - a.y.lo);
      a.left += 0.5 * (width - w), a.top += 0.5 * (plot_height - h);
      width = w, plot_height = h;
    }
    a.width = width, a.height = plot_height;
    int labelled = 0;
    for (const Series& s : panel.series) labelled += !s.label.empty();
    const double legend = labelled ? kLegendPad + kLegendLine * labelled : 0.0;
    height = std::max(height, a.top + a.height + kBottomMargin + legend);
    x += figure.panel_width;
    layout.areas.push_back(a);
  }
  layout.width = x;
  layout.height = std::ceil(height);
  return layout;
}

FigureFiles figure_files(const std::string& png_path) {
  std::filesystem::path p(png_path);
  FigureFiles files;
  files.png = png_path;
  files.svg = std::filesystem::path(p).replace_extension(".svg").string();
  // ".data.json", not ".json": `diagnose --json F.json --plot F.png` writes its report as F.json.
  files.json = std::filesystem::path(p).replace_extension(".data.json").string();
  if (files.svg == png_path) files.svg += ".svg";
  return files;
}

Image render_figure(const Figure& figure) {
  const FigureLayout layout = figure_layout(figure);
  const CairoSurface surface = draw_to_image(figure, layout);
  Image image;
  image.width = cairo_image_surface_get_width(surface.get());
  image.height = cairo_image_surface_get_height(surface.get());
  image.rgb.resize(static_cast<std::size_t>(image.width) * image.height * 3);
  const unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < image.height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < image.width; ++x) {
      uint8_t* out = &image.rgb[(static_cast<std::size_t>(y) * image.width + x) * 3];
      out[0] = static_cast<uint8_t>(row[x] >> 16), out[1] = static_cast<uint8_t>(row[x] >> 8),
      out[2] = static_cast<uint8_t>(row[x]);
    }
  }
  return image;
}

JsonObject figure_json(const Figure& figure) {
  JsonArray panels;
  for (const Panel& panel : figure.panels) {
    JsonObject p;
    p.add("title", panel.title).add("x_label", panel.x_label).add("y_label", panel.y_label).add("log_x", panel.log_x);
    if (!panel.bare) {
      const auto [ax, ay] = panel_axes(panel);
      const auto value = [](const Axis& a, double w) { return a.log ? std::pow(10.0, w) : w; };
      p.add("x_range", JsonArray({value(ax, ax.lo), value(ax, ax.hi)}))
          .add("y_range", JsonArray({ay.lo, ay.hi}));
    }
    JsonArray series;
    for (const Series& s : panel.series) series.push(series_json(s));
    p.add("series", series);
    if (!panel.arrows.empty()) {
      std::vector<double> x, y, dx, dy;
      for (const Arrow& a : panel.arrows) x.push_back(a.x), y.push_back(a.y), dx.push_back(a.dx), dy.push_back(a.dy);
      p.add("arrows", JsonObject().add("x", JsonArray(x)).add("y", JsonArray(y)).add("dx", JsonArray(dx)).add("dy", JsonArray(dy)));
    }
    if (panel.colour_bar) p.add("colour_bar_label", panel.colour_bar->label);
    p.merge(panel.data);
    panels.push(p);
  }
  JsonObject out;
  out.add("title", figure.title).add("panels", panels);
  return out;
}

FigureFiles write_figure(const std::string& png_path, const Figure& figure) {
  const FigureLayout layout = figure_layout(figure);
  const FigureFiles files = figure_files(png_path);
  const std::string png = encode_png(figure, layout), svg = encode_svg(figure, layout);
  const std::string json = figure_json(figure).str() + "\n";
  write_text_atomically(files.png, png);
  write_text_atomically(files.svg, svg);
  write_text_atomically(files.json, json);
  return files;
}

}  // namespace flowlab::io
