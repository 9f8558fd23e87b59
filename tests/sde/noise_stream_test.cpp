// NoiseStream: per-sample noise that depends only on (seed, sample, step), and
// is standard normal, uncorrelated across steps, samples and elements.
#include "flowlab/solvers/noise_stream.h"

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace flowlab::solvers {
namespace {

constexpr uint64_t kSeed = 20240611;

// Steps 0 .. steps-1 of a stream, stacked: [steps, samples, ...].
torch::Tensor draw_steps(NoiseStream stream, int64_t steps) {
  std::vector<torch::Tensor> draws;
  for (int64_t k = 0; k < steps; ++k) draws.push_back(stream.next());
  return torch::stack(draws);
}

// The noise of samples 0 .. total-1 drawn in batches of `batch` (the last one shorter).
torch::Tensor draw_in_batches(int64_t total, int64_t batch, int64_t steps, torch::IntArrayRef shape) {
  std::vector<torch::Tensor> parts;
  for (int64_t first = 0; first < total; first += batch) {
    const int64_t n = std::min(batch, total - first);
    parts.push_back(draw_steps(NoiseStream(kSeed, first, n, shape, torch::kDouble), steps));
  }
  return torch::cat(parts, 1);
}

// Pearson correlation of two equally long vectors.
double correlation(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor da = a - a.mean(), db = b - b.mean();
  return ((da * db).sum() / (da.square().sum() * db.square().sum()).sqrt()).item<double>();
}

TEST(NoiseStream, SampleNoiseDoesNotDependOnTheBatch) {
  const std::vector<int64_t> shape = {3};  // odd: the last Box-Muller pair is cut in half
  const torch::Tensor whole = draw_in_batches(50, 50, 4, shape);
  EXPECT_EQ(whole.sizes(), (std::vector<int64_t>{4, 50, 3}));
  EXPECT_TRUE(torch::equal(draw_in_batches(50, 7, 4, shape), whole));
  EXPECT_TRUE(torch::equal(draw_in_batches(50, 1, 4, shape), whole));
  // One sample on its own at its global index.
  EXPECT_TRUE(torch::equal(draw_steps(NoiseStream(kSeed, 23, 1, shape, torch::kDouble), 4), whole.slice(1, 23, 24)));
}

TEST(NoiseStream, SampleNoiseDoesNotDependOnTheThreadCount) {
  const int threads = at::get_num_threads();
  const NoiseStream stream(kSeed, 0, 3000, {8}, torch::kDouble);
  at::set_num_threads(1);
  const torch::Tensor serial = stream.draw(5);
  at::set_num_threads(std::max(2, threads));
  const torch::Tensor parallel = stream.draw(5);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(serial, parallel));
}

TEST(NoiseStream, DrawIsRandomAccessToTheSteps) {
  NoiseStream stream(kSeed, 5, 4, {2, 2}, torch::kDouble);
  const torch::Tensor step2 = stream.draw(2);
  EXPECT_EQ(stream.next_step(), 0);
  EXPECT_EQ(step2.sizes(), (std::vector<int64_t>{4, 2, 2}));
  stream.next();
  stream.next();
  EXPECT_EQ(stream.next_step(), 2);
  EXPECT_TRUE(torch::equal(stream.next(), step2));
}

TEST(NoiseStream, DiffersAcrossSamplesStepsAndSeeds) {
  const NoiseStream stream(kSeed, 0, 64, {2}, torch::kDouble);
  const torch::Tensor step0 = stream.draw(0);
  const torch::Tensor step1 = stream.draw(1);
  // No two samples, and no sample at two steps, share a value.
  const torch::Tensor values = torch::cat({step0.flatten(), step1.flatten()});
  const torch::Tensor sorted = std::get<0>(values.sort());
  EXPECT_GT((sorted.slice(0, 1) - sorted.slice(0, 0, -1)).min().item<double>(), 0.0);
  const NoiseStream other_seed(kSeed + 1, 0, 64, {2}, torch::kDouble);
  EXPECT_FALSE(torch::equal(other_seed.draw(0), step0));
  EXPECT_GT((other_seed.draw(0) - step0).abs().min().item<double>(), 0.0);
}

TEST(NoiseStream, Float32IsTheFloat64NoiseRounded) {
  const NoiseStream single(kSeed, 3, 10, {5}, torch::kFloat);
  const NoiseStream twice(kSeed, 3, 10, {5}, torch::kDouble);
  const torch::Tensor noise = single.draw(7);
  EXPECT_EQ(noise.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(noise, twice.draw(7).to(torch::kFloat)));
}

TEST(NoiseStream, ForStateCopiesShapeDtypeAndDevice) {
  const torch::Tensor x = torch::zeros({6, 1, 2, 3}, torch::kDouble);
  NoiseStream stream = NoiseStream::for_state(kSeed, 40, x);
  EXPECT_EQ(stream.samples(), 6);
  const torch::Tensor noise = stream.next();
  EXPECT_EQ(noise.sizes(), x.sizes());
  EXPECT_EQ(noise.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::equal(noise, NoiseStream(kSeed, 40, 6, {1, 2, 3}, torch::kDouble).draw(0)));
}

TEST(NoiseStream, HandlesEmptyShapes) {
  EXPECT_EQ(NoiseStream(kSeed, 0, 0, {2}, torch::kDouble).draw(0).sizes(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(NoiseStream(kSeed, 0, 3, {}, torch::kDouble).draw(0).sizes(), (std::vector<int64_t>{3}));
}

TEST(NoiseStream, RejectsBadArguments) {
  EXPECT_THROW(NoiseStream(kSeed, -1, 2, {2}), c10::Error);
  EXPECT_THROW(NoiseStream(kSeed, 0, -2, {2}), c10::Error);
  EXPECT_THROW(NoiseStream(kSeed, 0, 2, {2}, torch::kLong), c10::Error);
  EXPECT_THROW(NoiseStream(kSeed, 0, 2, {2}).draw(-1), c10::Error);
  EXPECT_THROW(NoiseStream(kSeed, 0, 2, {2}).draw(int64_t{1} << 32), c10::Error);
}

// 200000 values: standard errors are sqrt(1/n) = 0.0022 for the mean,
// sqrt(2/n) = 0.0032 for the variance, sqrt(96/n) = 0.022 for the fourth
// moment (E z^4 = 3, Var z^4 = 96) and sqrt(1/n) for correlations. Checks
// allow 4 standard errors.
TEST(NoiseStream, IsStandardNormal) {
  const torch::Tensor z = NoiseStream(kSeed, 1000, 50000, {4}, torch::kDouble).draw(3).flatten();
  const double n = static_cast<double>(z.numel());
  EXPECT_NEAR(z.mean().item<double>(), 0.0, 4.0 * std::sqrt(1.0 / n));
  EXPECT_NEAR(z.var().item<double>(), 1.0, 4.0 * std::sqrt(2.0 / n));
  // The fourth moment tells a normal (3) from e.g. scaled uniforms (1.8).
  EXPECT_NEAR(z.pow(4).mean().item<double>(), 3.0, 4.0 * std::sqrt(96.0 / n));
  // Tail mass: P(|z| > 1.96) = 0.05, SE sqrt(0.05 0.95 / n).
  const double tail = (z.abs() > 1.959963984540054).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(tail, 0.05, 4.0 * std::sqrt(0.05 * 0.95 / n));
}

TEST(NoiseStream, IsUncorrelatedAcrossStepsSamplesAndElements) {
  const int64_t samples = 50000;
  const NoiseStream stream(kSeed, 0, samples, {2}, torch::kDouble);
  const torch::Tensor step0 = stream.draw(0), step1 = stream.draw(1);
  const double tolerance = 4.0 / std::sqrt(static_cast<double>(samples));
  // Consecutive steps of the same sample and element.
  EXPECT_NEAR(correlation(step0.flatten(), step1.flatten()), 0.0, tolerance);
  // The two elements of one Box-Muller pair.
  EXPECT_NEAR(correlation(step0.select(1, 0), step0.select(1, 1)), 0.0, tolerance);
  // Neighbouring samples at one step.
  EXPECT_NEAR(correlation(step0.slice(0, 0, samples - 1).flatten(), step0.slice(0, 1).flatten()), 0.0,
              tolerance * std::sqrt(0.5));
  // Squares too: Box-Muller pairs share a radius, which a bad angle would expose.
  EXPECT_NEAR(correlation(step0.select(1, 0).square(), step0.select(1, 1).square()), 0.0, tolerance);
}

}  // namespace
}  // namespace flowlab::solvers
