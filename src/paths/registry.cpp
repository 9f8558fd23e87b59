#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/one_sided.h"
#include "flowlab/paths/path.h"
#include "flowlab/paths/two_sided.h"

namespace flowlab::paths {

Registry<Path>& path_registry() {
  static Registry<Path> registry("paths");
  return registry;
}

void register_builtin_paths() {
  auto& r = path_registry();
  if (r.contains("cond_ot")) return;  // already registered
  r.add_component<CondOTPath, NoOptions>(
      "cond_ot", "conditional OT / rectified flow: alpha = 1 - t, beta = t, gamma = 0, x0 ~ N(0, I)");
  r.add_component<TrigPath, NoOptions>("trig", "cosine path: alpha = cos(pi t/2), beta = sin(pi t/2), x0 ~ N(0, I)");
  r.add_component<PolynomialPath, PolynomialOptions>("polynomial", "alpha = 1 - t^n, beta = t^n, x0 ~ N(0, I)");
  r.add_component<SbdmPath, NoOptions>(
      "sbdm", "score-based diffusion: alpha = sqrt(1 - t^2), beta = t, x0 ~ N(0, I); t clipped to 1 - 1e-4 in conversions");
  r.add_component<VpPath, VpOptions>(
      "vp", "variance-preserving diffusion, linear noise rate beta_min..beta_max, in flowlab time (t = 1 is data)");
  auto add_two_sided = [&r](const std::string& name, const std::string& doc, TwoSidedPath::Shape shape) {
    r.add(
        name, doc,
        [shape](config::Node& node) -> std::unique_ptr<Path> {
          return std::make_unique<TwoSidedPath>(TwoSidedOptions::read(node), shape);
        },
        [](config::Node& node) { TwoSidedOptions::read(node); });
  };
  add_two_sided("linear", "two-sided interpolant, any source: alpha = 1 - t, beta = t, gamma(t) z",
                TwoSidedPath::Shape::kLinear);
  add_two_sided("trig_vp",
                "two-sided interpolant, any source: sqrt(1 - gamma^2) (cos, sin)(pi t/2), gamma(t) z",
                TwoSidedPath::Shape::kTrig);
  r.add_component<EncoderDecoderPath, NoOptions>(
      "encoder_decoder", "two-sided: alpha = cos^2(pi t)[t<1/2], beta = cos^2(pi t)[t>1/2], gamma = sin^2(pi t)");
}

}  // namespace flowlab::paths
