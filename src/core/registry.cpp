#include "flowlab/core/registry.h"

#include <algorithm>

namespace flowlab {

RegistryBase::RegistryBase(std::string family) : family_(std::move(family)) {
  all_registries().push_back(this);
}

bool RegistryBase::contains(const std::string& name) const {
  const auto known = names();
  return std::find(known.begin(), known.end(), name) != known.end();
}

void RegistryBase::check_known(const config::Node& node, const std::string& key, const std::string& name) const {
  if (!contains(name)) node.fail(key, unknown_name(family(), name, names()));
}

std::vector<RegistryBase*>& all_registries() {
  static std::vector<RegistryBase*> registries;
  return registries;
}

}  // namespace flowlab
