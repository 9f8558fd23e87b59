#pragma once
// A 2-D vector field as a picture: its curl (d f2/d x1 - d f1/d x2, by central differences) as a
// diverging colour map (blue negative, white 0, red positive), saturating at the 99th percentile
// of the Jacobian's Frobenius norm (a rotation is deep red or blue, a gradient white); the
// density of points darkening it; and arrows of the field on a coarse grid.
#include <torch/types.h>

#include <functional>

#include "flowlab/io/plot.h"

namespace flowlab::io {

/// `field` maps points [N, 2] to vectors [N, 2]. The square covers `points` [M, 2] with a 5%
/// margin; the image is `pixels` square, the curl sampled once per 4 pixels, arrows on a 24 x 24 grid.
Image field_image(const std::function<torch::Tensor(const torch::Tensor&)>& field, const torch::Tensor& points,
                  int pixels = 480);

}  // namespace flowlab::io
