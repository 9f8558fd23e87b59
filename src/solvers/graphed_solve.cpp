#include "flowlab/solvers/graphed_solve.h"

#include <torch/torch.h>

#include "builtin_solvers.h"
#include "flowlab/core/error.h"

#ifdef FLOWLAB_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGraphsC10Utils.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace flowlab::solvers {

struct GraphedSolve::Capture {
#ifdef FLOWLAB_WITH_CUDA
  at::cuda::CUDAGraph graph;
#endif
  torch::Tensor input;   // x0 is copied here before each replay
  SolveResult result;    // the captured solve's outputs, overwritten by each replay
};

bool GraphedSolve::compiled() {
#ifdef FLOWLAB_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool stream_capturing(const c10::Device& device) {
#ifdef FLOWLAB_WITH_CUDA
  // Only a CUDA tensor's solve can be captured; asking without one would start CUDA (and fail
  // on a machine without a driver).
  if (!device.is_cuda()) return false;
  const c10::cuda::CUDAGuard guard(device);
  return c10::cuda::currentStreamCaptureStatusMayInitCtx() != c10::cuda::CaptureStatus::None;
#else
  (void)device;
  return false;
#endif
}

GraphedSolve::GraphedSolve(const Solver& solver, Field field, double t0, double t1)
    : solver_(solver), field_(std::move(field)), t0_(t0), t1_(t1) {}

GraphedSolve::~GraphedSolve() = default;

SolveResult GraphedSolve::integrate(const torch::Tensor& x0) {
#ifdef FLOWLAB_WITH_CUDA
  if (!x0.is_cuda()) return solver_.integrate(field_, x0, t0_, t1_);
  detail::check_solve_inputs("cuda_graph", x0, t0_, t1_);
  const std::vector<int64_t> key = x0.sizes().vec();
  auto found = captures_.find(key);
  if (found == captures_.end()) {
    auto capture = std::make_unique<Capture>();
    capture->input = x0.clone();
    const c10::cuda::CUDAGuard device(x0.device());
    // Capture runs on a side stream; the warm-up solves there allocate what the graph will use
    // (cuBLAS workspaces, the caching allocator's blocks) before capture.
    c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, x0.device().index());
    side.synchronize();
    at::cuda::getCurrentCUDAStream().synchronize();
    {
      const c10::cuda::CUDAStreamGuard on_side(side);
      for (int i = 0; i < 2; ++i) solver_.integrate(field_, capture->input, t0_, t1_);
      side.synchronize();
      // Casts cached by autocast would be baked into the graph: off while capturing.
      const bool cast_cache = at::autocast::is_autocast_cache_enabled();
      at::autocast::set_autocast_cache_enabled(false);
      try {
        capture->graph.capture_begin();
        capture->result = solver_.integrate(field_, capture->input, t0_, t1_);
        capture->graph.capture_end();
      } catch (const std::exception& e) {
        at::autocast::set_autocast_cache_enabled(cast_cache);
        throw Error(std::string("sample.cuda_graph: the solve could not be captured as a CUDA graph (") + e.what() +
                    "); sample with sample.cuda_graph: false");
      }
      at::autocast::set_autocast_cache_enabled(cast_cache);
    }
    side.synchronize();
    found = captures_.emplace(key, std::move(capture)).first;
  }
  Capture& c = *found->second;
  c.input.copy_(x0);
  c.graph.replay();
  SolveResult out = c.result;
  out.x = c.result.x.clone();
  if (c.result.first_non_finite_step.defined()) {
    out.first_non_finite_step = c.result.first_non_finite_step.clone();
    detail::throw_if_non_finite("cuda_graph", out, t0_, t1_, x0.size(0));
  }
  return out;
#else
  return solver_.integrate(field_, x0, t0_, t1_);
#endif
}

}  // namespace flowlab::solvers
