#include "flowlab/config/node.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {

SolverOptions SolverOptions::read(config::Node& node) {
  SolverOptions options;
  options.steps = node.get<int64_t>("steps", options.steps, "number of uniform steps (fixed-step solvers)");
  node.expect(options.steps >= 1, "steps", "an integer >= 1");
  options.atol = node.get<double>("atol", options.atol, "absolute tolerance (adaptive solvers)");
  node.expect(options.atol >= 0.0, "atol", "a number >= 0");
  options.rtol = node.get<double>("rtol", options.rtol, "relative tolerance (adaptive solvers)");
  node.expect(options.rtol >= 0.0, "rtol", "a number >= 0");
  node.expect(options.atol > 0.0 || options.rtol > 0.0, "rtol", "a number > 0 when atol is 0");
  options.max_steps = node.get<int64_t>("max_steps", options.max_steps,
                                        "step cap per sample for adaptive solvers (an error when hit)");
  node.expect(options.max_steps >= 1, "max_steps", "an integer >= 1");
  return options;
}

}  // namespace flowlab::solvers
