#pragma once
// Builds a path from YAML text, registering the built-in paths once.
#include <memory>
#include <string>

#include "flowlab/paths/path.h"

namespace flowlab::paths {

/// A float64 tensor from a brace list.
inline torch::Tensor f64(std::initializer_list<double> v) { return torch::tensor(std::vector<double>(v), torch::kFloat64); }

inline std::unique_ptr<Path> make_path(const std::string& yaml) {
  register_builtin_paths();  // idempotent
  config::Node node = config::Node::parse(yaml, "path.yaml");
  return path_registry().create(node);
}

}  // namespace flowlab::paths
