#pragma once
// Helpers shared by the data tests.
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"

namespace flowlab::data_test {

inline void ensure_datasets_registered() {
  static std::once_flag once;
  std::call_once(once, [] { data::register_builtin_datasets(); });
}

/// Builds a dataset from YAML text holding its section (with `type:`).
inline std::unique_ptr<data::Dataset> make_dataset(const std::string& yaml) {
  ensure_datasets_registered();
  config::Node node = config::Node::parse(yaml);
  return data::dataset_registry().create(node);
}

/// Half-width of a `sigmas`-sigma interval for the count of a Binomial(n, p).
inline double binomial_tolerance(int64_t n, double p, double sigmas = 5.0) {
  return sigmas * std::sqrt(static_cast<double>(n) * p * (1.0 - p));
}

/// The message of the exception `fn` throws as `E`, or "" when it throws nothing.
template <class E, class Fn>
std::string thrown_message(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

/// Writes `bytes` to `path` (fixture files the tests make themselves).
inline void write_binary_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write test file " + path);
}

}  // namespace flowlab::data_test
