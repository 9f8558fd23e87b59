// Every registered path keeps the promises of its registry doc: coefficients are finite
// inside [clip, 1 - clip], a derivative that is infinite at an endpoint is documented as
// such, and conversions on Gaussian-source paths stay finite at t = 0 and t = 1.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "flowlab/paths/path.h"
#include "paths/make_path.h"
#include "support/config_error.h"

namespace flowlab::paths {
namespace {

// The default configuration of `name` (tabulated has no default table).
std::string default_yaml(const std::string& name) {
  if (name == "tabulated") return "type: tabulated\nt: [0, 0.5, 1]\nalpha: [1, 0.6, 0]\nbeta: [0, 0.6, 1]\n";
  if (name == "kinetic_optimal") {
    return "type: kinetic_optimal\ndata_points: 400\nnoise_samples: 128\nknots: 10\nminimise_intervals: 16\n";
  }
  return "type: " + name + "\n";
}

// The path of `yaml`, fitted to a 2-D Gaussian mixture when it is computed from data.
std::unique_ptr<Path> ready_path(const std::string& yaml) {
  auto path = make_path(yaml);
  if (path->needs_fit()) {
    torch::manual_seed(3);
    const auto data = torch::randn({400, 2}) * 0.3 + torch::randint(2, {400, 1}).to(torch::kFloat32) * 2 - 1;
    path->fit([&](int64_t n) { return data.slice(0, 0, n); }, 5);
  }
  return path;
}

bool all_finite(const Coefficients& c, bool with_derivatives) {
  auto finite = [](const torch::Tensor& v) { return torch::isfinite(v).all().item<bool>(); };
  bool ok = finite(c.alpha) && finite(c.beta) && finite(c.gamma) && finite(c.gamma_d_gamma);
  if (with_derivatives) ok = ok && finite(c.d_alpha) && finite(c.d_beta) && finite(c.d_gamma);
  return ok;
}

TEST(PathSingularities, DocsStateWhatIsInfinite) {
  register_builtin_paths();
  const auto names = path_registry().names();
  ASSERT_GE(names.size(), 11u);
  for (const std::string& name : names) {
    for (const std::string& extra : {std::string(), std::string("n: 0.5\n"), std::string("beta_min: 0\n")}) {
      if ((extra == "n: 0.5\n" && name != "polynomial") || (extra == "beta_min: 0\n" && name != "vp")) continue;
      auto path = ready_path(default_yaml(name) + extra);
      const double clip = path->clip();
      const auto inside = torch::linspace(clip, 1 - clip, 101, torch::kFloat64);
      EXPECT_TRUE(all_finite(path->at(inside), true)) << name << " " << extra;
      const Coefficients ends = path->at(torch::tensor({0.0, 1.0}, torch::kFloat64));
      EXPECT_TRUE(all_finite(ends, false)) << name << " " << extra;
      if (!all_finite(ends, true)) {
        const std::string doc = path_registry().doc(name);
        EXPECT_NE(doc.find("infinite"), std::string::npos) << name << ": " << doc;
      }
    }
  }
}

TEST(PathSingularities, GaussianSourceConversionsAreFiniteAtTheEndpoints) {
  register_builtin_paths();
  for (const std::string& name : path_registry().names()) {
    auto path = ready_path(default_yaml(name));
    if (!path->gaussian_source()) continue;
    torch::manual_seed(14);
    const auto x = torch::randn({2, 3}, torch::kFloat64), out = torch::randn({2, 3}, torch::kFloat64);
    const auto t = torch::tensor({0.0, 1.0}, torch::kFloat64);
    for (Prediction kind : {Prediction::kVelocity, Prediction::kNoise, Prediction::kData, Prediction::kScore}) {
      EXPECT_TRUE(torch::isfinite(path->to_velocity(kind, out, x, t)).all().item<bool>()) << name << to_string(kind);
      EXPECT_TRUE(torch::isfinite(path->to_score(kind, out, x, t)).all().item<bool>()) << name << to_string(kind);
    }
  }
}

TEST(PathSingularities, TrigVpRefusesAGammaThatReachesOne) {
  // sin^2(pi t) = 1 at t = 1/2 would make sqrt(1 - gamma^2) non-differentiable there.
  testing::expect_config_error([] { make_path("type: trig_vp\ngamma: sinesquared\n"); }, {"gamma"});
  EXPECT_NO_THROW(make_path("type: linear\ngamma: sinesquared\n"));
}

}  // namespace
}  // namespace flowlab::paths
