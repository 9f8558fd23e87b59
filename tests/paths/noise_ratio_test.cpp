// times_of_noise_ratio: the time where a path's noise-to-signal ratio is sigma, against the
// closed forms of cond_ot ((1 - t) / t) and trig (cot(pi t / 2)), and the ratio it inverts on vp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/paths/fields.h"
#include "paths/make_path.h"

namespace flowlab::paths {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(NoiseRatio, TimesMatchTheClosedForms) {
  const torch::Tensor sigma = f64({0.002, 0.1, 1.0, 7.5, 80.0});
  const torch::Tensor cond_ot = times_of_noise_ratio(*make_path("type: cond_ot\n"), sigma);
  EXPECT_TRUE(torch::allclose(cond_ot, 1.0 / (1.0 + sigma), 1e-12, 0)) << cond_ot;
  const torch::Tensor trig = times_of_noise_ratio(*make_path("type: trig\n"), sigma);
  EXPECT_TRUE(torch::allclose(trig, (2.0 / kPi) * torch::atan(1.0 / sigma), 1e-12, 0)) << trig;
  // Any path: the ratio at the returned times is sigma.
  auto vp = make_path("type: vp\n");
  const torch::Tensor t = times_of_noise_ratio(*vp, sigma);
  const torch::Tensor ratio = noise_level(*vp, t) / vp->at(t).beta;
  EXPECT_TRUE(torch::allclose(ratio, sigma, 1e-9, 0)) << ratio;
  EXPECT_TRUE((t.slice(0, 1) < t.slice(0, 0, -1)).all().item<bool>());  // more noise, earlier time
}

}  // namespace
}  // namespace flowlab::paths
