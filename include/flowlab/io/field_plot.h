#pragma once
// A 2-D vector field as a figure panel: its curl (d f2/d x1 - d f1/d x2, by central differences)
// as a diverging colour map (blue negative, white 0, red positive), saturating at the 99th
// percentile of the Jacobian's Frobenius norm (a rotation is deep red or blue, a gradient white);
// the density of points darkening it; and arrows of the field on a coarse grid.
#include <torch/types.h>

#include <functional>

#include "flowlab/io/figure.h"

namespace flowlab::io {

/// `field` maps points [N, 2] to vectors [N, 2]. The square covers `points` [M, 2] with a 5%
/// margin; the curl is sampled on `cells` x `cells` cell centres, arrows on a 24 x 24 grid (the
/// longest 0.9 of the grid spacing). The panel's JSON data hold the curl grid and the field's
/// unscaled vectors at the arrows.
Panel field_panel(const std::function<torch::Tensor(const torch::Tensor&)>& field, const torch::Tensor& points,
                  int cells = 100);

}  // namespace flowlab::io
