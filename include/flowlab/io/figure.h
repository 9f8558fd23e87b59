#pragma once
// Figures drawn through cairo: panels side by side, each with axes (ticks, labels, grid), line,
// marker, error-bar and bar series, an optional raster under the data (a density or curl image)
// with a colour bar, and optional arrows. One call writes the figure as PNG and SVG, and its data
// as JSON beside them, so every figure can be redrawn elsewhere (e.g. matplotlib).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flowlab/io/image.h"
#include "flowlab/io/json.h"

namespace flowlab::io {

/// One data series of a panel.
struct Series {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> y_error;  ///< optional: error bars of +-y_error
  bool line = true;             ///< join the points
  bool dashed = false;          ///< a dashed line (reference curves)
  bool markers = false;         ///< draw each point
  double bar_width = 0.0;       ///< > 0: a bar from 0 to y, this wide in x units and centred on x, per point
  Rgb colour{31, 119, 180};
};

/// Colours for successive series (matplotlib's "tab10").
Rgb series_colour(std::size_t index);

/// An arrow from (x, y) to (x + dx, y + dy), in data coordinates.
struct Arrow {
  double x, y, dx, dy;
};

/// The data range a panel's axes show: x in [x_lo, x_hi], y in [y_lo, y_hi].
struct Range {
  double x_lo, x_hi, y_lo, y_hi;
};

/// A colour bar beside a raster: `colours` from the bottom of the bar to its top, and labelled
/// ticks at fractions of its height (0 bottom, 1 top).
struct ColourBar {
  std::string label;
  std::vector<Rgb> colours;
  std::vector<std::pair<double, std::string>> ticks;
};

struct Panel {
  std::string title, x_label, y_label;
  bool log_x = false;
  std::vector<Series> series;
  /// Drawn first, stretched over `range` (which it then needs), pixel edges kept sharp.
  Image raster;
  std::optional<ColourBar> colour_bar;
  std::vector<Arrow> arrows;
  /// The axes' range; unset: chosen to cover every finite point, error bar and bar (x > 0 on a
  /// log axis), padded by 5% (log axes: whole decades).
  std::optional<Range> range;
  /// One data unit is as long on both axes (point clouds, fields).
  bool equal_aspect = false;
  /// No axes, ticks or labels: the raster alone at its own size in pixels (image grids).
  bool bare = false;
  /// More of the panel's data for the JSON file (point coordinates, grids), beside what is drawn.
  JsonObject data;
};

struct Figure {
  std::string title;
  std::vector<Panel> panels;  ///< left to right
  /// Size of one panel in pixels (PNG) and points (SVG); a bare panel takes its raster's size.
  int panel_width = 560, panel_height = 440;
};

/// Where write_figure puts a figure: `png` as given, the SVG and the data beside it, the name's
/// extension replaced by ".svg" and ".data.json" (F.png: F.svg, F.data.json).
struct FigureFiles {
  std::string png, svg, json;
};
FigureFiles figure_files(const std::string& png_path);

/// Draws `figure` and writes its three files, each atomically (io/atomic_file.h): a failed
/// write is an Error naming the file and leaves no partial file. Throws Error for a series whose
/// x, y and error counts differ, a raster without a range, or an empty or unwritable figure.
FigureFiles write_figure(const std::string& png_path, const Figure& figure);

/// The figure as JSON (what write_figure writes beside the PNG): its title and, per panel, the
/// title, axis labels, range, series (label, x, y, y_error, style), arrows and `data`.
JsonObject figure_json(const Figure& figure);

}  // namespace flowlab::io
