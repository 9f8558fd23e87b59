#pragma once
// Line and point charts as PNG (axes, ticks, labels and a legend drawn with stb_easy_font):
// curves such as lambda(s) or a diagnostic against t, without a plotting library.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "flowlab/io/plot.h"

namespace flowlab::io {

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> y_error;  ///< optional: error bars of +-y_error
  bool line = true;             ///< join the points
  bool markers = false;         ///< draw each point
  double bar_width = 0.0;       ///< > 0: a bar from 0 to y, this wide in x units and centred on x, per point
  std::array<uint8_t, 3> colour{31, 119, 180};
};

struct LinePlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false;
  int width = 760, height = 500;
};

/// The chart of `series`; the axes cover every finite point (x > 0 on a log axis), and 0 and the bars'
/// edges when there are bars. The legend lies
/// below the chart: the image is options.height plus 18 pixels per labelled series (and 8) tall.
Image line_plot(const std::vector<Series>& series, const LinePlotOptions& options);

/// Colours for successive series (matplotlib's "tab10").
std::array<uint8_t, 3> series_colour(std::size_t index);

}  // namespace flowlab::io
