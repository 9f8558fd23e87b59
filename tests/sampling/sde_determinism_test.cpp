// Per-sample determinism of a whole SDE sample through the pieces `flowlab sample --sde` uses:
// a small nn::Model (MLP predicting the velocity on the cond_ot path, so the score comes from
// the path's conversion), paths::sde_drift_field, the noise_level eps schedule, stochastic Heun
// and NoiseStream. Sample i must come out the same whether it is drawn in a batch of 48, in a
// sub-batch at an offset, or alone; a different seed must change it.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <memory>

#include "flowlab/nn/mlp.h"
#include "flowlab/nn/model.h"
#include "flowlab/paths/fields.h"
#include "flowlab/solvers/noise_stream.h"
#include "flowlab/solvers/sde.h"
#include "paths/make_path.h"
#include "sampling/sampling_support.h"

namespace flowlab::sampling_test {
namespace {

TEST(SdeDeterminism, EachSampleIsTheSameInAnyBatch) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);  // the network's initial weights
  nn::MlpOptions mlp;
  mlp.hidden = {16, 16};
  mlp.time_embedding.dim = 8;
  auto network = std::make_shared<nn::Mlp>(mlp, nn::SampleShape{2}, 1);
  nn::Model model({network}, nn::ModelOptions{});
  model.to(torch::kFloat64);  // float64: batch-size-dependent GEMM blocking then rounds below 1e-12
  model.eval();

  auto path = paths::make_path("type: cond_ot\n");
  const paths::ModelFn model_fn = [&model](const torch::Tensor& x, const torch::Tensor& t,
                                           const data::Condition& condition) {
    return model.forward(x, t, condition);
  };
  const solvers::EpsSchedule eps = eps_schedule("noise_level", 0.5, *path);
  const solvers::Field drift = paths::sde_drift_field(model_fn, model.predictions(), *path, eps);
  const solvers::Diffusion diffusion = solvers::diffusion_from_eps(eps);
  const auto solver = sde_solver("stochastic_heun", 40, solvers::FinalStep::kMean);

  const int64_t n = 48;
  const torch::Tensor x0 = solvers::NoiseStream(7, 0, n, {2}, torch::kFloat64).draw(0);
  auto sample = [&](uint64_t seed, int64_t first, int64_t count) {
    const torch::Tensor start = x0.slice(0, first, first + count);
    solvers::NoiseStream noise = solvers::NoiseStream::for_state(seed, first, start);
    return solver->integrate(drift, diffusion, start, 0.0, 0.99, noise).x;
  };

  const torch::Tensor all = sample(11, 0, n);
  ASSERT_TRUE(torch::isfinite(all).all().item<bool>());
  EXPECT_TRUE(torch::equal(all, sample(11, 0, n))) << "the same call twice";
  const torch::Tensor middle = sample(11, 17, 9);
  EXPECT_TRUE(torch::allclose(middle, all.slice(0, 17, 26), 1e-12, 1e-12)) << (middle - all.slice(0, 17, 26));
  for (int64_t i : {0, 30, 47}) {
    const torch::Tensor alone = sample(11, i, 1);
    EXPECT_TRUE(torch::allclose(alone, all.slice(0, i, i + 1), 1e-12, 1e-12)) << i << ": " << alone;
  }
  // The noise matters: another seed moves every sample.
  const torch::Tensor reseeded = sample(12, 0, n);
  EXPECT_GT((reseeded - all).norm(2, 1).min().item<double>(), 1e-3);
}

}  // namespace
}  // namespace flowlab::sampling_test
