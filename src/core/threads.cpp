#include "flowlab/core/threads.h"

#include <ATen/Parallel.h>
#include <sched.h>

#include <algorithm>
#include <thread>

namespace flowlab {

int64_t available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

void use_threads(int64_t threads) { at::set_num_threads(static_cast<int>(threads > 0 ? threads : available_cores())); }

int64_t training_threads(int64_t multiply_adds) {
  return multiply_adds >= 0 && multiply_adds < kSmallStep ? 1 : available_cores();
}

}  // namespace flowlab
