#pragma once
// A trained network becomes solver fields through its path.
#include <functional>

#include "flowlab/paths/path.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::paths {

/// A network as a plain function of (x, t).
using NetworkFn = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& t)>;

/// The velocity b(x, t) of a network predicting `kind` on `path`.
solvers::Field velocity_field(NetworkFn network, Prediction kind, const Path& path);
/// The score grad log rho_t(x) of a network predicting `kind` on `path`.
solvers::Field score_field(NetworkFn network, Prediction kind, const Path& path);

}  // namespace flowlab::paths
