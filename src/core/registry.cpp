#include "flowlab/core/registry.h"

namespace flowlab {

RegistryBase::RegistryBase(std::string family) : family_(std::move(family)) {
  all_registries().push_back(this);
}

std::vector<RegistryBase*>& all_registries() {
  static std::vector<RegistryBase*> registries;
  return registries;
}

}  // namespace flowlab
