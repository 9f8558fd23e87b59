#include "flowlab/paths/kinetic_optimal.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "flowlab/core/error.h"
#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/kinetic_energy.h"
#include "flowlab/solvers/gauss_legendre.h"
#include "numeric.h"

namespace flowlab::paths {
namespace {

using detail::kHalfPi;
// gamma below this counts as this: psi stays strictly increasing (invertible) where the data look Gaussian.
constexpr double kGammaFloor = 1e-12;
constexpr int64_t kFineAngles = 20000;
constexpr int kNodesPerPiece = 4;

torch::Tensor chebyshev_lobatto(int64_t intervals) {
  const auto k = torch::arange(intervals + 1, torch::kFloat64);
  auto t = 0.5 * (1.0 - torch::cos(k * (M_PI / static_cast<double>(intervals))));
  t[0] = 0.0;
  t[intervals] = 1.0;
  return t;
}

// Fine angle grid on [0, pi/2]: uniform, plus the knots of lambda (where h has its structure).
torch::Tensor fine_angles(const DataSeparation& separation) {
  std::vector<double> theta;
  for (int64_t i = 0; i <= kFineAngles; ++i) theta.push_back(kHalfPi * static_cast<double>(i) / kFineAngles);
  for (const auto& k : separation.knots()) theta.push_back(std::atan(k.s));
  std::sort(theta.begin(), theta.end());
  std::vector<double> kept{theta.front()};
  for (double v : theta) {
    if (v > kept.back() + 1e-9) kept.push_back(v);
  }
  kept.back() = kHalfPi;
  return torch::tensor(kept, torch::kFloat64);
}

// Energy-formula integrand of a polar schedule at (r, theta) with rates (r', theta').
torch::Tensor polar_integrand(const torch::Tensor& r, const torch::Tensor& theta, const torch::Tensor& d_r,
                              const torch::Tensor& d_theta, const DataSeparation& separation) {
  const double radius = std::sqrt(separation.second_moment());
  const auto sin = torch::sin(theta), cos = torch::cos(theta);
  const auto a = r * sin / radius, m = r * cos;
  const auto d_a = (d_r * sin + r * cos * d_theta) / radius, d_m = d_r * cos - r * sin * d_theta;
  return kinetic_energy_integrand(a, m, d_a, d_m, separation);
}

}  // namespace

KineticOptimalSchedule kinetic_optimal_closed_form(const DataSeparation& separation, int64_t intervals) {
  TORCH_CHECK(intervals >= 2, "kinetic-optimal schedule: at least 2 intervals, got ", intervals);
  const auto theta = fine_angles(separation);
  const auto root_gamma = torch::sqrt((1.0 - separation.error_ratio(theta)).clamp(kGammaFloor, 1.0));
  // psi(theta) = int_0^theta sqrt(gamma), by the trapezoid rule on the fine grid.
  const auto increments = 0.5 * (root_gamma.slice(0, 1) + root_gamma.slice(0, 0, -1)) * theta.diff();
  const auto psi = torch::cat({torch::zeros({1}, torch::kFloat64), increments.cumsum(0)});
  const double phi = psi[-1].item<double>();
  const double radius = std::sqrt(separation.second_moment());

  KineticOptimalSchedule s;
  s.t = chebyshev_lobatto(intervals);
  // The straight line from (1, 0) to radius (cos Phi, sin Phi) in the plane with polar coordinates (r, psi).
  const auto px = (1.0 - s.t) + s.t * radius * std::cos(phi);
  const auto py = s.t * radius * std::sin(phi);
  s.r = torch::sqrt(px * px + py * py);
  const auto psi_t = torch::atan2(py, px).clamp(0.0, phi);
  s.theta = MonotoneCubic(psi, theta).evaluate(psi_t).value.clamp(0.0, kHalfPi);
  s.theta[0] = 0.0, s.theta[intervals] = kHalfPi, s.r[0] = 1.0, s.r[intervals] = radius;
  s.radius = radius;
  s.phi = phi;
  s.energy = 1.0 + separation.second_moment() - 2.0 * radius * std::cos(phi);
  return s;
}

namespace {

// Minimises the discretised energy over (r, theta) on the Chebyshev-Lobatto grid with `intervals`
// pieces, starting from r_start, theta_start on that grid.
KineticOptimalSchedule minimise_on_grid(const DataSeparation& separation, int64_t intervals, int64_t iterations,
                                        const torch::Tensor& r_start, const torch::Tensor& theta_start) {
  const double radius = std::sqrt(separation.second_moment());
  const auto t = chebyshev_lobatto(intervals);
  const auto dt = t.diff();
  const auto log_r_line = t * std::log(radius);  // log r with the ends fixed: 0 at t = 0, log radius at t = 1
  auto theta_logits = torch::log(theta_start.diff().clamp_min(1e-300)).clone().requires_grad_(true);
  auto log_r_inner = (torch::log(r_start) - log_r_line).slice(0, 1, intervals).clone().requires_grad_(true);
  const auto zero = torch::zeros({1}, torch::kFloat64);
  const auto schedule = [&]() {
    const auto theta = kHalfPi * torch::cat({zero, torch::softmax(theta_logits, 0).cumsum(0)});
    const auto r = torch::exp(log_r_line + torch::cat({zero, log_r_inner, zero}));
    return std::make_pair(r, theta);
  };
  // The energy of the piecewise-linear (r, theta) by Gauss-Legendre on each piece: a cruder rule
  // (the midpoint) lets the minimiser hide fast turns between its nodes.
  // Plain references, not a structured binding: C++17 lets no lambda capture one (Clang refuses).
  const auto gauss_legendre_rule = solvers::gauss_legendre(kNodesPerPiece);
  const std::vector<double>& gl_nodes = gauss_legendre_rule.first;
  const std::vector<double>& gl_weights = gauss_legendre_rule.second;
  const auto energy = [&]() {
    const auto [r, theta] = schedule();
    const auto d_r = r.diff() / dt, d_theta = theta.diff() / dt;
    auto total = torch::zeros({}, torch::kFloat64);
    for (int i = 0; i < kNodesPerPiece; ++i) {
      const double u = 0.5 * (gl_nodes[i] + 1.0);
      const auto at = [u](const torch::Tensor& v) { return (1.0 - u) * v.slice(0, 0, -1) + u * v.slice(0, 1); };
      total = total + 0.5 * gl_weights[i] * (polar_integrand(at(r), at(theta), d_r, d_theta, separation) * dt).sum();
    }
    return total;
  };
  torch::optim::LBFGS optimizer({theta_logits, log_r_inner}, torch::optim::LBFGSOptions(1.0)
                                                                 .max_iter(iterations)
                                                                 .max_eval(iterations * 2)
                                                                 .tolerance_grad(1e-12)
                                                                 .tolerance_change(1e-15)
                                                                 .history_size(50)
                                                                 .line_search_fn("strong_wolfe"));
  optimizer.step([&]() {
    optimizer.zero_grad();
    auto e = energy();
    e.backward();
    return e;
  });
  torch::NoGradGuard no_grad;
  KineticOptimalSchedule s;
  s.t = t;
  const auto [r, theta] = schedule();
  s.r = r.detach().clone(), s.theta = theta.detach().clone();
  s.theta[intervals] = kHalfPi, s.r[intervals] = radius;
  s.radius = radius;
  s.energy = energy().item<double>();
  return s;
}

}  // namespace

KineticOptimalSchedule kinetic_optimal_minimised(const DataSeparation& separation, int64_t intervals,
                                                 int64_t iterations) {
  TORCH_CHECK(intervals >= 2, "kinetic-optimal minimisation: at least 2 intervals, got ", intervals);
  // Coarse to fine: a fine grid alone converges slowly (the problem is ill-conditioned), so each level
  // starts from the previous one's solution, interpolated linearly onto its grid.
  std::vector<int64_t> levels{intervals};
  while (levels.back() > 8) levels.push_back((levels.back() + 1) / 2);
  std::reverse(levels.begin(), levels.end());
  const double radius = std::sqrt(separation.second_moment());
  auto t = chebyshev_lobatto(levels.front());
  // Cond-OT start: a = t, m = 1 - t.
  torch::Tensor r = torch::sqrt((1.0 - t).pow(2) + radius * radius * t.pow(2));
  torch::Tensor theta = torch::atan2(radius * t, 1.0 - t);
  KineticOptimalSchedule s;
  for (std::size_t level = 0; level < levels.size(); ++level) {
    if (level > 0) {
      const auto fine = chebyshev_lobatto(levels[level]);
      const auto interpolate = [&](const torch::Tensor& v) {
        const auto k = (torch::searchsorted(s.t, fine, false, true) - 1).clamp(0, s.t.size(0) - 2);
        const auto t0 = s.t.index({k}), t1 = s.t.index({k + 1});
        const auto u = (fine - t0) / (t1 - t0);
        return v.index({k}) * (1 - u) + v.index({k + 1}) * u;
      };
      r = interpolate(s.r), theta = interpolate(s.theta);
    }
    s = minimise_on_grid(separation, levels[level], iterations, r, theta);
  }
  return s;
}

KineticOptimalOptions KineticOptimalOptions::read(config::Node& node) {
  KineticOptimalOptions o;
  o.separation = SeparationOptions::read(node);
  o.method = node.get_choice("method", o.method, {"closed_form", "minimised"},
                             "closed_form: the straight line in (r, psi) (exact up to quadrature); minimised: "
                             "L-BFGS over piecewise-linear schedules (both are computed and their agreement logged)");
  o.intervals = node.get<int64_t>("intervals", o.intervals, "intervals of the closed-form table (Chebyshev grid)");
  o.minimise_intervals =
      node.get<int64_t>("minimise_intervals", o.minimise_intervals, "pieces of the minimised schedule");
  node.expect(o.intervals >= 2, "intervals", "at least 2");
  node.expect(o.minimise_intervals >= 2, "minimise_intervals", "at least 2");
  return o;
}

KineticOptimalPath::KineticOptimalPath(const KineticOptimalOptions& options) : options_(options) {}

KineticOptimalPath::KineticOptimalPath(const KineticOptimalSchedule& schedule) {
  set_schedule(schedule.t, schedule.r, schedule.theta, schedule.radius);
}

void KineticOptimalPath::set_schedule(const torch::Tensor& t, const torch::Tensor& r, const torch::Tensor& theta,
                                      double radius) {
  const auto t64 = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const auto r64 = r.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const auto theta64 = theta.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t last = t64.size(0) - 1;
  if (t64.dim() != 1 || last < 1 || r64.sizes() != t64.sizes() || theta64.sizes() != t64.sizes()) {
    throw Error("kinetic_optimal path: t, r and theta must be [K+1] with K >= 1");
  }
  if (!(radius > 0) || !std::isfinite(radius) || !torch::isfinite(r64).all().item<bool>() ||
      !torch::isfinite(theta64).all().item<bool>() || !(r64 > 0).all().item<bool>()) {
    throw Error("kinetic_optimal path: r, theta and the radius must be finite and r > 0");
  }
  const double tol = 1e-9;
  if (t64[0].item<double>() != 0.0 || t64[last].item<double>() != 1.0 ||
      std::abs(r64[0].item<double>() - 1.0) > tol || std::abs(r64[last].item<double>() - radius) > tol ||
      std::abs(theta64[0].item<double>()) > tol || std::abs(theta64[last].item<double>() - kHalfPi) > tol) {
    throw Error("kinetic_optimal path: the table must run from (t, r, theta) = (0, 1, 0) to (1, radius, pi/2)");
  }
  t_ = t64;
  radius_ = radius;
  cubics_ = {MonotoneCubic(t64, r64), MonotoneCubic(t64, theta64)};
  fitted_ = true;
}

Coefficients KineticOptimalPath::at(const torch::Tensor& t) const {
  if (!fitted_) {
    throw Error("kinetic_optimal path: no schedule yet; training computes it from the data (fit) and checkpoints "
                "carry it");
  }
  const MonotoneCubic::Evaluation r = cubics_[0].evaluate(t), theta = cubics_[1].evaluate(t);
  const auto sin = torch::sin(theta.value), cos = torch::cos(theta.value);
  Coefficients c;
  c.beta = r.value * sin / radius_;
  c.alpha = r.value * cos;
  c.d_beta = (r.derivative * sin + r.value * cos * theta.derivative) / radius_;
  c.d_alpha = r.derivative * cos - r.value * sin * theta.derivative;
  c.gamma = torch::zeros_like(c.alpha);
  c.d_gamma = torch::zeros_like(c.alpha);
  c.gamma_d_gamma = torch::zeros_like(c.alpha);
  return c;
}

std::string KineticOptimalPath::fit(const DataDraw& draw, uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  const torch::Tensor data = draw(options_.separation.data_points);
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const DataSeparation separation = DataSeparation::estimate(data.cpu(), options_.separation, gen);
  const KineticOptimalSchedule closed = kinetic_optimal_closed_form(separation, options_.intervals);
  const KineticOptimalSchedule minimised = kinetic_optimal_minimised(separation, options_.minimise_intervals);
  const KineticOptimalSchedule& chosen = options_.method == "closed_form" ? closed : minimised;
  set_schedule(chosen.t, chosen.r, chosen.theta, chosen.radius);
  const double gap = schedule_gap(closed, minimised);
  const double table_energy = path_kinetic_energy(*this, separation).energy;
  const double cond_ot_energy = path_kinetic_energy(CondOTPath(), separation).energy;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char line[512];
  std::snprintf(line, sizeof line,
                "kinetic_optimal: lambda from %lld data points (mu2 = %.4g); Phi = %.5f; energy %.5f (closed form), "
                "%.5f (minimised; a and m within %.2g), %.5f (the %s table); cond_ot %.5f; %.1f s",
                static_cast<long long>(data.size(0)), separation.second_moment(), closed.phi, closed.energy,
                minimised.energy, gap, table_energy, options_.method.c_str(), cond_ot_energy, seconds);
  return line;
}

std::vector<std::pair<std::string, torch::Tensor>> KineticOptimalPath::state() const {
  if (!fitted_) return {};
  return {{"t", t_.clone()},
          {"r", cubics_[0].values().clone()},
          {"theta", cubics_[1].values().clone()},
          {"radius", torch::tensor({radius_}, torch::kFloat64)}};
}

void KineticOptimalPath::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  if (state.empty()) throw Error("kinetic_optimal path: the checkpoint holds no schedule");
  torch::Tensor t, r, theta, radius;
  for (const auto& [name, tensor] : state) {
    torch::Tensor* slot = name == "t" ? &t : name == "r" ? &r : name == "theta" ? &theta : name == "radius" ? &radius : nullptr;
    if (!slot) throw Error("kinetic_optimal path state: unknown tensor '" + name + "' (expected t, r, theta, radius)");
    *slot = tensor;
  }
  if (!t.defined() || !r.defined() || !theta.defined() || !radius.defined() || radius.numel() != 1) {
    throw Error("kinetic_optimal path state: expected t, r, theta and a one-element radius");
  }
  set_schedule(t, r, theta, radius.item<double>());
}

double schedule_gap(const KineticOptimalSchedule& a, const KineticOptimalSchedule& b) {
  const KineticOptimalPath path(a);
  const Coefficients c = path.at(b.t);
  const auto sin = torch::sin(b.theta), cos = torch::cos(b.theta);
  return std::max((c.beta - b.r * sin / b.radius).abs().max().item<double>(),
                  (c.alpha - b.r * cos).abs().max().item<double>());
}

}  // namespace flowlab::paths
