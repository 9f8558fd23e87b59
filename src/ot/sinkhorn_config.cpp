#include "flowlab/ot/sinkhorn_config.h"

#include <cmath>

namespace flowlab::ot {

void read_sinkhorn_options(config::Node& node, SinkhornOptions& options, const std::string& eps_doc) {
  options.eps = node.get<double>("eps", options.eps, eps_doc);
  node.expect(std::isfinite(options.eps) && options.eps > 0, "eps", "a number > 0");
  options.tolerance = node.get<double>("tolerance", options.tolerance, "Sinkhorn's L1 marginal error to stop at");
  node.expect(options.tolerance > 0, "tolerance", "a number > 0");
  options.max_iterations =
      node.get<int64_t>("max_iterations", options.max_iterations, "cap on Sinkhorn updates per problem");
  node.expect(options.max_iterations > 0, "max_iterations", "an integer > 0");
}

}  // namespace flowlab::ot
