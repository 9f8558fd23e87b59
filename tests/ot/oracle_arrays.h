#pragma once
// Moves tensors into Python oracle scripts as text (17 significant digits, so
// every float64 survives the trip exactly) and reads numbers back.
#include <torch/torch.h>

#include <cstdio>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "flowlab/ot/metric.h"

namespace flowlab::ot::testing {

/// "np.array([...], dtype=np.float64).reshape(shape)".
inline std::string numpy_array(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.detach().to(torch::kCPU, torch::kFloat64).contiguous().reshape({-1});
  std::string out = "np.array([";
  char buffer[32];
  const double* values = flat.data_ptr<double>();
  for (int64_t i = 0; i < flat.numel(); ++i) {
    std::snprintf(buffer, sizeof(buffer), "%.17g,", values[i]);
    out += buffer;
  }
  out += "], dtype=np.float64).reshape((";
  for (int64_t size : tensor.sizes()) out += std::to_string(size) + ",";
  return out + "))";
}

/// Every whitespace-separated number in the oracle's output, in order.
inline std::vector<double> parse_numbers(const std::string& output) {
  std::istringstream in(output);
  std::vector<double> numbers;
  std::string word;
  while (in >> word) numbers.push_back(std::stod(word));
  return numbers;
}

/// Tests call this instead of register_builtins(), so only this area is needed.
inline void register_metrics_once() {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_metrics(); });
}

}  // namespace flowlab::ot::testing
