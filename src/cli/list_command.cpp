#include <cstdio>

#include "flowlab/builtins.h"
#include "commands.h"
#include "flowlab/core/error.h"
#include "flowlab/core/registry.h"

namespace flowlab::cli {

int list_command(const std::string& family) {
  register_builtins();
  std::vector<std::string> families;
  for (const RegistryBase* r : all_registries()) families.push_back(r->family());
  bool found = false;
  for (const RegistryBase* r : all_registries()) {
    if (!family.empty() && r->family() != family) continue;
    found = true;
    std::printf("%s:\n", r->family().c_str());
    for (const auto& name : r->names()) {
      std::printf("  %s — %s\n", name.c_str(), r->doc(name).c_str());
      for (const auto& o : r->options(name)) {
        const std::string value = o.required ? "(required)" : "default " + o.default_value;
        std::printf("      %-22s %-24s %s\n", o.key.c_str(), value.c_str(), o.doc.c_str());
      }
    }
  }
  if (!found) {
    throw ConfigError(unknown_name("family", family, families));
  }
  return 0;
}

}  // namespace flowlab::cli
