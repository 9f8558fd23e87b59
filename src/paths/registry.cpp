#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/kinetic_optimal.h"
#include "flowlab/paths/mirror.h"
#include "flowlab/paths/one_sided.h"
#include "flowlab/paths/path.h"
#include "flowlab/paths/tabulated.h"
#include "flowlab/paths/two_sided.h"

namespace flowlab::paths {

// Each doc states where the formulas are singular and what is clipped (Path::clip() = 1e-4).
namespace {

const std::string kGaussianConversions =
    "; conversions between predictions divide by beta (0 at t = 0) and alpha (0 at t = 1) and use t clipped to "
    "[1e-4, 1 - 1e-4]";
const std::string kGammaNote =
    "; brownian gamma = sqrt(a t (1 - t)) has d gamma/dt infinite at t = 0 and 1: it is evaluated at t clipped to "
    "[1e-4, 1 - 1e-4], gamma gamma' = a (1 - 2t)/2 is exact";

}  // namespace

Registry<Path>& path_registry() {
  static Registry<Path> registry("paths");
  return registry;
}

void register_builtin_paths() {
  auto& r = path_registry();
  if (r.contains("cond_ot")) return;  // already registered
  r.add_component<CondOTPath, NoOptions>(
      "cond_ot", "conditional OT / rectified flow: alpha = 1 - t, beta = t, gamma = 0, x0 ~ N(0, I); smooth" +
                     kGaussianConversions);
  r.add_component<TrigPath, NoOptions>(
      "trig", "cosine path: alpha = cos(pi t/2), beta = sin(pi t/2), x0 ~ N(0, I); smooth" + kGaussianConversions);
  r.add_component<PolynomialPath, PolynomialOptions>(
      "polynomial",
      "alpha = 1 - t^n, beta = t^n, x0 ~ N(0, I); n < 1: d beta/dt = n t^(n-1) is infinite at t = 0; n > 1: the "
      "velocity vanishes at t = 0, so converting it to data or score amplifies errors like t^(1-n) there" +
          kGaussianConversions);
  r.add_component<SbdmPath, NoOptions>(
      "sbdm", "score-based diffusion: alpha = sqrt(1 - t^2), beta = t, x0 ~ N(0, I); d alpha/dt = -t/alpha is "
              "infinite at t = 1" + kGaussianConversions);
  r.add_component<VpPath, VpOptions>(
      "vp",
      "variance-preserving diffusion, linear noise rate beta_min..beta_max, in flowlab time (t = 1 is data), "
      "x0 ~ N(0, I); beta(0) = exp(-(beta_min + beta_max)/4) is small but not 0; d alpha/dt = exp(-T) T'/(2 alpha) "
      "is infinite at t = 1, where alpha = 0 (0/0 when beta_min = 0)" + kGaussianConversions);
  r.add_component<VpCosinePath, VpCosineOptions>(
      "vp_cosine",
      "improved-DDPM cosine schedule in flowlab time: beta = sqrt(abar(1 - t)), alpha = sqrt(1 - abar(1 - t)), "
      "abar(s) = f(s)/f(0), f(s) = cos^2((s + offset)/(1 + offset) pi/2), x0 ~ N(0, I); beta(0) = 0; "
      "d alpha/dt is infinite at t = 1 (alpha ~ sqrt(1 - t))" + kGaussianConversions);
  auto add_two_sided = [&r](const std::string& name, const std::string& doc, TwoSidedPath::Shape shape) {
    r.add(
        name, doc,
        [shape](config::Node& node) -> std::unique_ptr<Path> {
          const TwoSidedOptions options = TwoSidedOptions::read(node);
          // sin^2 reaches gamma = 1 at t = 1/2: alpha = beta = 0 there and sqrt(1 - gamma^2) has a kink.
          node.expect(shape != TwoSidedPath::Shape::kTrig || options.gamma.type != "sinesquared", "gamma",
                      "brownian, bsquared or zero for trig_vp (sinesquared reaches gamma = 1 at t = 1/2, where "
                      "sqrt(1 - gamma^2) is not differentiable)");
          return std::make_unique<TwoSidedPath>(options, shape);
        },
        [](config::Node& node) { TwoSidedOptions::read(node); });
  };
  add_two_sided("linear", "two-sided interpolant, any source: alpha = 1 - t, beta = t, gamma(t) z" + kGammaNote,
                TwoSidedPath::Shape::kLinear);
  add_two_sided("trig_vp",
                "two-sided interpolant, any source: sqrt(1 - gamma^2) (cos, sin)(pi t/2), gamma(t) z; gamma < 1 "
                "needed, so not sinesquared" + kGammaNote,
                TwoSidedPath::Shape::kTrig);
  r.add_component<EncoderDecoderPath, NoOptions>(
      "encoder_decoder",
      "two-sided: alpha = cos^2(pi t)[t<1/2], beta = cos^2(pi t)[t>1/2], gamma = sin^2(pi t); no singularity: "
      "alpha and beta reach 0 with zero slope at t = 1/2, where x_t = z ~ N(0, I)");
  r.add(
      "mirror",
      "mirror interpolant, data to itself: x_t = x1 + gamma(t) z (alpha = 1 - t, beta = t with x0 = x1); gamma "
      "brownian, bsquared or sinesquared" + kGammaNote,
      [](config::Node& node) -> std::unique_ptr<Path> {
        const TwoSidedOptions options = TwoSidedOptions::read(node);
        node.expect(options.gamma.type != "zero", "gamma",
                    "brownian, bsquared or sinesquared (with gamma = 0 the mirror path is x_t = x1)");
        return std::make_unique<MirrorPath>(options);
      },
      [](config::Node& node) { TwoSidedOptions::read(node); });
  r.add_component<TabulatedPath, TabulatedOptions>(
      "tabulated",
      "alpha, beta, gamma given on a grid 0 = t_0 < ... < t_K = 1 (lists or a .npy file), monotone cubic "
      "interpolation, saved in checkpoints; smooth, but conversions on a Gaussian source divide by beta near "
      "t = 0 and by alpha^2 + gamma^2 near t = 1 and use t clipped to [1e-4, 1 - 1e-4]");
  r.add_component<KineticOptimalPath, KineticOptimalOptions>(
      "kinetic_optimal",
      "kinetic-optimal Gaussian path of the training data (Shaul et al. 2023): lambda(s) estimated when training "
      "starts, the KO schedule x_t = m_t x0 + a_t x1 (x0 ~ N(0, I)) kept as r_t, theta_t on a Chebyshev grid "
      "(monotone cubics) and saved in checkpoints; where the data look Gaussian at low SNR, theta_t and so a_t rise "
      "like a power of t below 1, steep but finite in the table; conversions divide by a near t = 0 and m near "
      "t = 1 and use t clipped to [1e-4, 1 - 1e-4]");
}

}  // namespace flowlab::paths
