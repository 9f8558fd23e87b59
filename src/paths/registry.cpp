#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/one_sided.h"
#include "flowlab/paths/path.h"

namespace flowlab::paths {

Registry<Path>& path_registry() {
  static Registry<Path> registry("paths");
  return registry;
}

void register_builtin_paths() {
  auto& r = path_registry();
  r.add_component<CondOTPath, NoOptions>(
      "cond_ot", "conditional OT / rectified flow: alpha = 1 - t, beta = t, gamma = 0, x0 ~ N(0, I)");
  r.add_component<TrigPath, NoOptions>("trig", "cosine path: alpha = cos(pi t/2), beta = sin(pi t/2), x0 ~ N(0, I)");
  r.add_component<PolynomialPath, PolynomialOptions>("polynomial", "alpha = 1 - t^n, beta = t^n, x0 ~ N(0, I)");
  r.add_component<SbdmPath, NoOptions>(
      "sbdm", "score-based diffusion: alpha = sqrt(1 - t^2), beta = t, x0 ~ N(0, I); t clipped to 1 - 1e-4 in conversions");
  r.add_component<VpPath, VpOptions>(
      "vp", "variance-preserving diffusion, linear noise rate beta_min..beta_max, in flowlab time (t = 1 is data)");
}

}  // namespace flowlab::paths
