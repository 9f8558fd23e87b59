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

}  // namespace
}  // namespace flowlab
