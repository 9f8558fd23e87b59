#pragma once
// A fixed-step ODE solve captured once as a CUDA graph and replayed: one launch per batch
// instead of a few hundred kernel launches per step, which is what a small network's sampling
// costs on a GPU. Off CUDA (or in a build without the CUDA code paths) it is the plain solve.
#include <torch/types.h>

#include <map>
#include <memory>
#include <vector>

#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {

class GraphedSolve {
 public:
  /// `field` must be the same function of (x, t) on every call, computed by device work alone
  /// (no host reads, no data-dependent shapes) on tensors that stay where they are (a network's
  /// weights during sampling). `solver` must evaluate every row (a fixed-step solver).
  GraphedSolve(const Solver& solver, Field field, double t0, double t1);
  ~GraphedSolve();
  GraphedSolve(const GraphedSolve&) = delete;
  GraphedSolve& operator=(const GraphedSolve&) = delete;

  /// The solve from x0 (its shape's graph captured on the first call with that shape, after two
  /// warm-up solves on a side stream; replayed afterwards). Throws Error naming the step when the
  /// state became non-finite, as the solver does.
  SolveResult integrate(const torch::Tensor& x0);

  /// Whether this build has the CUDA code paths (FLOWLAB_WITH_CUDA).
  static bool compiled();

 private:
  struct Capture;
  const Solver& solver_;
  Field field_;
  double t0_, t1_;
  std::map<std::vector<int64_t>, std::unique_ptr<Capture>> captures_;
};

/// Whether `device` is a CUDA device whose current stream is capturing a graph (always false for
/// other devices and without CUDA code paths): solvers skip their host reads then and leave the
/// checks to the graph's owner.
bool stream_capturing(const c10::Device& device);

}  // namespace flowlab::solvers
