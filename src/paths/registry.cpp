#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/path.h"

namespace flowlab::paths {

Registry<Path>& path_registry() {
  static Registry<Path> registry("paths");
  return registry;
}

void register_builtin_paths() {
  path_registry().add_component<CondOTPath, NoOptions>(
      "cond_ot", "conditional OT / rectified flow: alpha = 1 - t, beta = t, gamma = 0, x0 ~ N(0, I)");
}

}  // namespace flowlab::paths
