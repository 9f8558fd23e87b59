// eps(t) schedules against their closed forms, and how they are configured.
#include "flowlab/solvers/eps_schedule.h"

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "support/config_error.h"

namespace flowlab::solvers {
namespace {

const double kPi = std::acos(-1.0);

const torch::Tensor& times() {
  static const torch::Tensor t = torch::tensor({0.0, 0.1, 0.25, 0.5, 0.8, 1.0}, torch::kDouble);
  return t;
}

EpsSchedule schedule(const std::string& type, double eps, const NoiseLevel& sigma = {}) {
  EpsScheduleOptions options;
  options.type = type;
  options.eps = eps;
  return make_eps_schedule(options, sigma);
}

// The closed form of each type at times(), computed element by element.
torch::Tensor closed_form(const std::string& type, double eps) {
  torch::Tensor out = torch::empty_like(times());
  for (int64_t i = 0; i < times().size(0); ++i) {
    const double t = times()[i].item<double>();
    double value = eps;
    if (type == "linear_decay") value = eps * (1.0 - t);
    if (type == "cosine_decay") value = eps * std::cos(kPi * t / 2.0) * std::cos(kPi * t / 2.0);
    // sigma = sqrt(t (1 - t)) peaks at 1/2 at t = 1/2.
    if (type == "noise_level") value = eps * std::sqrt(t * (1.0 - t)) / 0.5;
    out[i] = value;
  }
  return out;
}

const NoiseLevel brownian_bridge = [](const torch::Tensor& t) { return (t * (1.0 - t)).sqrt(); };

TEST(EpsSchedule, MatchesTheClosedForms) {
  for (const std::string type : {"constant", "linear_decay", "cosine_decay", "noise_level"}) {
    const torch::Tensor eps = schedule(type, 0.7, brownian_bridge)(times());
    EXPECT_EQ(eps.sizes(), times().sizes()) << type;
    EXPECT_EQ(eps.scalar_type(), torch::kDouble) << type;
    EXPECT_TRUE(torch::allclose(eps, closed_form(type, 0.7), 1e-12, 1e-14)) << type << ": " << eps;
  }
}

TEST(EpsSchedule, KeepsTheTimeDtype) {
  const torch::Tensor t = times().to(torch::kFloat);
  for (const std::string type : {"constant", "linear_decay", "cosine_decay", "noise_level"}) {
    const torch::Tensor eps = schedule(type, 0.7, brownian_bridge)(t);
    EXPECT_EQ(eps.scalar_type(), torch::kFloat) << type;
    EXPECT_TRUE(torch::allclose(eps.to(torch::kDouble), closed_form(type, 0.7), 1e-5, 1e-6)) << type;
  }
}

TEST(EpsSchedule, NoiseLevelScalesByTheMaximumOverTheUnitInterval) {
  // alpha(t) = 2 (1 - t) for a source with standard deviation 2: eps alpha(t) / 2.
  const NoiseLevel alpha = [](const torch::Tensor& t) { return 2.0 * (1.0 - t); };
  const torch::Tensor eps = schedule("noise_level", 0.3, alpha)(times());
  EXPECT_TRUE(torch::allclose(eps, 0.3 * (1.0 - times()), 1e-12, 1e-14));
}

TEST(EpsSchedule, LinearDecayStopsAtZero) {
  const torch::Tensor eps = schedule("linear_decay", 0.5)(torch::tensor({1.0, 1.5}, torch::kDouble));
  EXPECT_TRUE(torch::equal(eps, torch::zeros({2}, torch::kDouble)));
}

TEST(EpsSchedule, DiffusionIsSqrtTwoEps) {
  const Diffusion g = diffusion_from_eps(schedule("cosine_decay", 0.8));
  const torch::Tensor expected = (1.6 * torch::cos(kPi / 2.0 * times()).square()).sqrt();
  EXPECT_TRUE(torch::allclose(g(times()), expected, 1e-12, 1e-14));
  EXPECT_NEAR(g(torch::zeros({1}, torch::kDouble)).item<double>(), std::sqrt(1.6), 1e-15);
}

TEST(EpsSchedule, RejectsBadSchedules) {
  EXPECT_THROW(schedule("constant", -0.1), Error);
  EXPECT_THROW(schedule("constant", NAN), Error);
  EXPECT_THROW(schedule("exponential", 0.1), Error);
  EXPECT_THROW(schedule("noise_level", 0.1), Error);  // no noise level given
  const NoiseLevel zero = [](const torch::Tensor& t) { return torch::zeros_like(t); };
  EXPECT_THROW(schedule("noise_level", 0.1, zero), Error);
  const NoiseLevel negative = [](const torch::Tensor& t) { return t - 0.5; };
  EXPECT_THROW(schedule("noise_level", 0.1, negative), Error);
}

TEST(EpsScheduleOptionsRead, ReadsEveryKey) {
  config::Node node = config::Node::parse("eps_schedule: cosine_decay\neps: 0.25\n");
  const EpsScheduleOptions options = EpsScheduleOptions::read(node);
  EXPECT_EQ(options.type, "cosine_decay");
  EXPECT_DOUBLE_EQ(options.eps, 0.25);
  EXPECT_NO_THROW(node.check_all_used());
}

TEST(EpsScheduleOptionsRead, DefaultsToNoNoise) {
  config::Node node = config::Node::parse("{}");
  const EpsScheduleOptions options = EpsScheduleOptions::read(node);
  EXPECT_EQ(options.type, "constant");
  EXPECT_EQ(options.eps, 0.0);
}

TEST(EpsScheduleOptionsRead, NegativeEpsNamesTheKey) {
  config::Node node = config::Node::parse("eps_schedule: constant\neps: -0.5\n");
  testing::expect_config_error([&] { EpsScheduleOptions::read(node); }, {"eps", ">= 0"});
}

TEST(EpsScheduleOptionsRead, UnknownTypeIsAConfigError) {
  config::Node node = config::Node::parse("eps_schedule: linear\neps: 0.5\n");
  EXPECT_THROW(EpsScheduleOptions::read(node), ConfigError);
}

}  // namespace
}  // namespace flowlab::solvers
