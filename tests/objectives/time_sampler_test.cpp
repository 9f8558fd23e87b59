#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/data/dataset.h"
#include "flowlab/objectives/objective.h"

namespace flowlab::objectives {
namespace {

TimeSamplerOptions read(const std::string& yaml) {
  config::Node node = config::Node::parse(yaml, "objective.yaml");
  return TimeSamplerOptions::read(node);
}

TEST(TimeSamplers, UniformMoments) {
  auto gen = data::make_generator(0);
  const auto t = sample_times(read("time_sampler: uniform\n"), 200000, gen).to(torch::kFloat64);
  EXPECT_NEAR(t.mean().item<double>(), 0.5, 0.003);
  EXPECT_NEAR(t.var().item<double>(), 1.0 / 12, 0.002);
  EXPECT_GE(t.min().item<double>(), 0.0);
  EXPECT_LE(t.max().item<double>(), 1.0);
}

TEST(TimeSamplers, LogitNormalHasNormalLogits) {
  auto gen = data::make_generator(1);
  const auto t = sample_times(read("time_sampler: logit_normal\nlogit_mean: -0.5\nlogit_std: 0.8\n"), 200000, gen)
                     .to(torch::kFloat64);
  const auto logits = torch::log(t / (1 - t));
  EXPECT_NEAR(logits.mean().item<double>(), -0.5, 0.01);
  EXPECT_NEAR(logits.std().item<double>(), 0.8, 0.01);
}

TEST(TimeSamplers, StratifiedPutsOneTimeInEachBin) {
  auto gen = data::make_generator(2);
  const int64_t n = 64;
  const auto t = sample_times(read("time_sampler: stratified\n"), n, gen);
  const auto bins = torch::floor(t * n).to(torch::kLong);
  EXPECT_TRUE(torch::equal(std::get<0>(torch::sort(bins)), torch::arange(n, torch::kLong)));
  EXPECT_FALSE(torch::equal(bins, torch::arange(n, torch::kLong)));  // shuffled, not in bin order
}

TEST(TimeSamplers, BadOptions) {
  EXPECT_THROW(read("time_sampler: logit\n"), ConfigError);
  EXPECT_THROW(read("time_sampler: logit_normal\nlogit_std: 0\n"), ConfigError);
}

}  // namespace
}  // namespace flowlab::objectives
