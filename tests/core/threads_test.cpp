#include "flowlab/core/threads.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <thread>

namespace flowlab {
namespace {

TEST(Threads, DefaultIsEveryAvailableCore) {
  const int64_t cores = available_cores();
  EXPECT_GE(cores, 1);
  EXPECT_LE(cores, static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency())));
  use_threads(1);
  EXPECT_EQ(at::get_num_threads(), 1);
  use_threads();
  EXPECT_EQ(at::get_num_threads(), cores);
  use_threads(-3);  // <= 0: all cores, as run.threads: 0
  EXPECT_EQ(at::get_num_threads(), cores);
}

TEST(Threads, SmallTrainingStepsRunOnOneThread) {
  // moons at width 64, batch 256: 12.5 k multiply-adds per sample.
  EXPECT_EQ(training_threads(256 * (66 * 64 + 64 * 64 * 2 + 64 * 2)), 1);
  EXPECT_EQ(training_threads(kSmallStep - 1), 1);
  EXPECT_EQ(training_threads(kSmallStep), available_cores());
  EXPECT_EQ(training_threads(256 * (66 * 256 + 256 * 256 * 2 + 256 * 2)), available_cores());
  EXPECT_EQ(training_threads(-1), available_cores());  // unknown size (convolutions)
}

}  // namespace
}  // namespace flowlab
