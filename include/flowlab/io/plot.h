#pragma once
// 2-D point clouds as density figures: a log-scaled 2-D histogram per panel (io/figure.h).
#include <torch/types.h>

#include <string>

#include "flowlab/io/figure.h"
#include "flowlab/io/image.h"

namespace flowlab::io {

/// Density image (2-D histogram, log-scaled colour map, empty pixels black) of points [N, 2]
/// over the square [lo, hi]^2, `pixels` bins a side.
Image density_image(const torch::Tensor& points, double lo, double hi, int pixels);

/// A panel showing density_image of `points` [N, >=2] (first two coordinates) over [lo, hi]^2 with
/// its axes and a colour bar of points per bin; its JSON data holds the points drawn.
Panel density_panel(const torch::Tensor& points, double lo, double hi, int pixels, const std::string& title);

/// Data (left) beside model samples (right), both [N, >=2] (the first two coordinates are
/// drawn), on a shared square range covering the central 99% of both clouds.
Figure samples_beside_data_figure(const torch::Tensor& samples, const torch::Tensor& data, int pixels = 200);

/// Writes samples_beside_data_figure as `path` (PNG) with SVG and JSON beside it.
FigureFiles plot_samples_beside_data(const std::string& path, const torch::Tensor& samples,
                                     const torch::Tensor& data, int pixels = 200);

}  // namespace flowlab::io
