#pragma once
// Sinkhorn's keys in a config section, read the same way by every component
// that runs Sinkhorn (the sinkhorn metric, the sinkhorn_ot coupling, monge_map).
#include <string>

#include "flowlab/config/node.h"
#include "flowlab/ot/sinkhorn.h"

namespace flowlab::ot {

/// Reads `eps` (documented by `eps_doc`), `tolerance` and `max_iterations` into
/// `options`, whose current values are the defaults; each must be > 0.
void read_sinkhorn_options(config::Node& node, SinkhornOptions& options, const std::string& eps_doc);

}  // namespace flowlab::ot
