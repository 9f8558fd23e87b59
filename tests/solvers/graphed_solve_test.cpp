// CUDA-graph solves (solvers/graphed_solve.h): the same states as the plain solve, replayed with
// new inputs, one graph per batch shape, non-finite states still named. Off CUDA the plain solve.
#include "flowlab/solvers/graphed_solve.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "flowlab/core/error.h"

namespace flowlab::solvers {
namespace {

// A small fixed network as a field: tanh(x W1 + t) W2, on `device`.
Field network_field(torch::Device device) {
  torch::manual_seed(0);
  const torch::Tensor w1 = torch::randn({2, 32}).to(device) * 0.5, w2 = torch::randn({32, 2}).to(device) * 0.5;
  return [w1, w2](const torch::Tensor& x, const torch::Tensor& t) {
    return torch::tanh(torch::mm(x, w1) + t.unsqueeze(1)).mm(w2);
  };
}

TEST(GraphedSolve, OffCudaItIsThePlainSolve) {
  SolverOptions options;
  options.steps = 20;
  const auto solver = make_solver("heun", options);
  const Field field = network_field(torch::kCPU);
  GraphedSolve graphed(*solver, field, 0.0, 1.0);
  const torch::Tensor x0 = torch::randn({64, 2});
  EXPECT_TRUE(torch::equal(graphed.integrate(x0).x, solver->integrate(field, x0, 0.0, 1.0).x));
}

TEST(GraphedSolve, ReplaysMatchThePlainSolveOnCuda) {
  if (!GraphedSolve::compiled()) GTEST_SKIP() << "built without the CUDA code paths (a LibTorch without CUDA)";
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device on this machine";
  const torch::Device cuda(torch::kCUDA);
  const Field field = network_field(cuda);
  for (const char* name : {"euler", "heun", "rk4"}) {
    SolverOptions options;
    options.steps = 16;
    const auto solver = make_solver(name, options);
    GraphedSolve graphed(*solver, field, 0.0, 1.0);
    for (int64_t batch : {256, 256, 100, 256}) {  // replays, a second shape, the first shape again
      const torch::Tensor x0 = torch::randn({batch, 2}, torch::TensorOptions().device(cuda));
      const SolveResult g = graphed.integrate(x0);
      const SolveResult plain = solver->integrate(field, x0, 0.0, 1.0);
      EXPECT_EQ(g.nfe, plain.nfe) << name;
      EXPECT_LT((g.x - plain.x).abs().max().item<double>(), 1e-6) << name << " batch " << batch;
    }
  }
}

TEST(GraphedSolve, NonFiniteStatesAreNamedAfterAReplay) {
  if (!GraphedSolve::compiled() || !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device or CUDA build";
  const torch::Device cuda(torch::kCUDA);
  // Blows up from t = 0.5 on, decided on the device (no host read inside the graph).
  const Field field = [](const torch::Tensor& x, const torch::Tensor& t) {
    return torch::where((t >= 0.5).unsqueeze(1), torch::full_like(x, INFINITY), -x);
  };
  SolverOptions options;
  options.steps = 10;
  const auto solver = make_solver("euler", options);
  GraphedSolve graphed(*solver, field, 0.0, 1.0);
  try {
    graphed.integrate(torch::ones({8, 2}, torch::TensorOptions().device(cuda)));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite at t=0.6 (step 6 of 10"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace flowlab::solvers
