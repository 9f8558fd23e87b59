// Gaussian mixture -> Gaussian mixture (2-D, non-commuting covariances, independent coupling)
// on the two-sided linear interpolant with gamma = sqrt(t (1 - t)) (a = 1), sampled with the
// exact fields of GaussianMixtureFields: the probability-flow ODE (dopri5) and the SDE with
// eps = 0.5 (stochastic Heun, 200 steps, drift from paths::sde_drift_field) must both land on
// the target mixture. Judged by the energy distance (ot::energy_distance) to a fresh target
// sample set, against the noise floor: the energy distance between two independent target
// sample sets of the same size. Mismatched sets (the source; the target shifted by 0.5) must be
// far above that floor, so the test can fail.
//
// End time: t = 1 itself. The exact fields are finite there (C_ij(1) = C1_j > 0 and b uses
// gamma gamma' = (1 - 2t)/2 in closed form), so no clipping is needed; with final_step = mean
// (the library default) the last SDE step adds no noise, an O(eps h) = 0.0025 variance deficit
// far below what 4000 samples resolve.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "flowlab/data/dataset.h"
#include "flowlab/ot/energy_distance.h"
#include "flowlab/ot/metric.h"
#include "flowlab/paths/fields.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "flowlab/solvers/noise_stream.h"
#include "flowlab/solvers/sde.h"
#include "flowlab/solvers/solver.h"
#include "paths/make_path.h"
#include "sampling/sampling_support.h"

namespace flowlab::sampling_test {
namespace {

constexpr int64_t kMixtureSamples = 4000;

torch::Tensor draw(const data::GaussianMixture& mixture, uint64_t seed) {
  at::Generator gen = data::make_generator(seed);
  return mixture.sample(kMixtureSamples, gen).x.to(torch::kFloat64);
}

TEST(MixtureSampling, OdeAndSdeSamplesMatchTheTargetMixture) {
  auto path = paths::make_path("type: linear\ngamma: brownian\na: 1\n");
  const data::GaussianMixture source = source_mixture(), target = target_mixture();
  const paths::GaussianMixtureFields fields(*path, source, target);

  // Probability-flow ODE from one source sample set.
  solvers::SolverOptions ode_options;
  ode_options.atol = 1e-6;
  ode_options.rtol = 1e-6;
  const auto ode = solvers::make_solver("dopri5", ode_options);
  const solvers::SolveResult ode_result = ode->integrate(fields.velocity_field(), draw(source, 1), 0.0, 1.0);
  const torch::Tensor ode_samples = ode_result.x;

  // SDE from another: eps = 0.5, stochastic Heun, 200 steps.
  const solvers::EpsSchedule eps = eps_schedule("constant", 0.5, *path);
  const solvers::Field drift = paths::sde_drift_field(oracle_model(fields), oracle_kinds(), *path, eps);
  const auto sde = sde_solver("stochastic_heun", 200, solvers::FinalStep::kMean);
  const torch::Tensor sde_start = draw(source, 2);
  solvers::NoiseStream noise = solvers::NoiseStream::for_state(3, 0, sde_start);
  const torch::Tensor sde_samples = sde->integrate(drift, solvers::diffusion_from_eps(eps), sde_start, 0.0, 1.0, noise).x;
  ASSERT_TRUE(torch::isfinite(ode_samples).all().item<bool>());
  ASSERT_TRUE(torch::isfinite(sde_samples).all().item<bool>());

  const torch::Tensor reference = draw(target, 4), other = draw(target, 5);
  const double floor = ot::energy_distance(draw(target, 6), other);
  // The floor should be what V-statistics predict for independent sets: E D^2 = delta (2 / N)
  // with delta = E|X - X'|; so it is a typical draw, not a lucky small one.
  const double delta = torch::cdist(reference.slice(0, 0, 2000), other.slice(0, 0, 2000)).mean().item<double>();
  const double expected_floor = std::sqrt(2.0 * delta / static_cast<double>(kMixtureSamples));
  EXPECT_GT(floor, 0.5 * expected_floor);
  EXPECT_LT(floor, 2.0 * expected_floor);

  const double ode_distance = ot::energy_distance(ode_samples, reference);
  const double sde_distance = ot::energy_distance(sde_samples, reference);
  const double ode_vs_sde = ot::energy_distance(ode_samples, sde_samples);
  const double source_distance = ot::energy_distance(draw(source, 7), reference);
  const double shifted_distance = ot::energy_distance(other + 0.5, reference);

  // The registered metric is the same function.
  ot::register_builtin_metrics();
  config::Node metric_node = config::Node::parse("type: energy_distance\n", "metric.yaml");
  at::Generator gen = data::make_generator(8);
  EXPECT_NEAR(ot::metric_registry().create(metric_node)->compute(ode_samples, reference, gen), ode_distance, 1e-12);

  if (std::getenv("FLOWLAB_SAMPLING_REPORT") != nullptr) {
    std::printf("  energy distance floor %.4f (expected %.4f); ode %.4f (nfe %lld), sde %.4f, ode-sde %.4f; "
                "source %.4f, target+0.5 %.4f\n",
                floor, expected_floor, ode_distance, static_cast<long long>(ode_result.nfe), sde_distance, ode_vs_sde,
                source_distance, shifted_distance);
  }
  // Below 3 measured floors, and below 2.5 expected floors (D^2 below 6.25 times its mean under
  // matching laws). For matching laws D / expected_floor had a 95% quantile of 1.35 in 40
  // simulated repetitions, and reached 2.0 once in exploration when both sets were atypical; the
  // second bound is the sharper one, since a measured floor is itself noisy. Distortions the first
  // bound alone let through (the ODE with 0.25 s added to b: D = 3.0 expected floors; the SDE
  // with noise for eps = 1 but drift for eps = 0.5: 3.6) fail the second.
  for (double distance : {ode_distance, sde_distance, ode_vs_sde}) {
    EXPECT_LT(distance, 3 * floor);
    EXPECT_LT(distance, 2.5 * expected_floor);
  }
  EXPECT_GT(source_distance, 10 * floor);
  EXPECT_GT(shifted_distance, 5 * floor);
}

}  // namespace
}  // namespace flowlab::sampling_test
