// Times flowlab::ot::optimal_assignment on costs read from raw float64 files, for
// scripts/bench/assignment.sh (which compiles it with src/ot/assignment.cpp).
//   assignment_bench REPEATS N M FILE [N M FILE ...]
// One line per problem: n m median_s min_s cost, where cost is the sum of the
// assigned entries; the timed call is the public one (input checks included).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "flowlab/ot/assignment.h"

int main(int argc, char** argv) {
  if (argc < 5 || (argc - 2) % 3 != 0) {
    std::fprintf(stderr, "usage: %s REPEATS N M FILE [N M FILE ...]\n", argv[0]);
    return 2;
  }
  const int repeats = std::atoi(argv[1]);
  for (int a = 2; a + 2 < argc; a += 3) {
    const int64_t n = std::atoll(argv[a]), m = std::atoll(argv[a + 1]);
    std::vector<double> data(static_cast<size_t>(n * m));
    std::ifstream in(argv[a + 2], std::ios::binary);
    in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(double)));
    if (!in) {
      std::fprintf(stderr, "cannot read %lld x %lld doubles from %s\n", static_cast<long long>(n),
                   static_cast<long long>(m), argv[a + 2]);
      return 1;
    }
    const torch::Tensor cost = torch::from_blob(data.data(), {n, m}, torch::kFloat64).clone();
    std::vector<double> seconds;
    torch::Tensor columns;
    for (int r = 0; r < repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      columns = flowlab::ot::optimal_assignment(cost);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                            : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
    const double total = cost.gather(1, columns.unsqueeze(1)).sum().item<double>();
    std::printf("%lld %lld %.9g %.9g %.17g\n", static_cast<long long>(n), static_cast<long long>(m), median, sorted[0],
                total);
  }
  return 0;
}
