#pragma once
// Where write_figure (io/figure.h) puts things: each panel's plot area in pixels and the data
// range it shows, and the figure drawn into memory. Tests read pixels through these.
#include <utility>
#include <vector>

#include "flowlab/io/figure.h"

namespace flowlab::io {

/// One axis: [lo, hi] in data units, or in log10 units on a log axis.
struct Axis {
  double lo = 0.0, hi = 1.0;
  bool log = false;
  /// Where `v` lies along the axis: 0 at lo, 1 at hi.
  double fraction(double v) const;
};

/// A panel's plot area (inside its axes) in pixels from the figure's top-left corner.
struct PlotArea {
  double left = 0, top = 0, width = 0, height = 0;
  Axis x, y;
  double x_pixel(double v) const { return left + x.fraction(v) * width; }
  double y_pixel(double v) const { return top + (1.0 - y.fraction(v)) * height; }  // y up
};

struct FigureLayout {
  double width = 0, height = 0;  ///< the whole figure
  std::vector<PlotArea> areas;   ///< one per panel
};

/// The layout of `figure`; throws Error as write_figure does for a malformed figure.
FigureLayout figure_layout(const Figure& figure);

/// `figure` drawn as write_figure draws its PNG.
Image render_figure(const Figure& figure);

/// The axes a panel shows (its range, or one covering its data).
std::pair<Axis, Axis> panel_axes(const Panel& panel);

/// An axis over the finite `values` (x > 0 on a log axis), padded by 5% (log: whole decades).
Axis axis_over(const std::vector<double>& values, bool log);

/// About five ticks at multiples of 1, 2 or 5 x 10^k in [lo, hi].
std::vector<double> linear_ticks(double lo, double hi);

/// The ticks of an x axis: linear_ticks, or powers of ten (at most about eight) on a log axis.
std::vector<double> x_ticks(const Axis& axis);

}  // namespace flowlab::io
