// Kinetic-optimal paths: the closed form (Phi, E_KO = 2(1 - cos Phi)) against reference values,
// against Cond-OT when the data are separated, against an independent numerical minimisation,
// and the path type's life cycle (fit from data, state in checkpoints).
#include "flowlab/paths/kinetic_optimal.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/data/dataset.h"
#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/kinetic_energy.h"
#include "flowlab/paths/one_sided.h"
#include "kinetic/kinetic_support.h"
#include "paths/make_path.h"
#include "support/config_error.h"

namespace flowlab::paths {
namespace {

// lambda = 1 everywhere: one point (lambda'(0) = |E x|^2 / (d mu2) = 1 too).
DataSeparation separated() {
  SeparationOptions grid;
  grid.knots = 20;
  return DataSeparation::from_posterior_error([](double) { return 0.0; }, 1.0, 0.0, grid);
}

torch::Tensor a_of(const KineticOptimalSchedule& s) { return s.r * torch::sin(s.theta) / s.radius; }
torch::Tensor m_of(const KineticOptimalSchedule& s) { return s.r * torch::cos(s.theta); }

double max_abs(const torch::Tensor& v) { return v.abs().max().item<double>(); }

// lambda = 1: KO is Cond-OT, a = t, m = 1 - t, energy 2 (theory.md 2 and 10).
TEST(KineticOptimal, SeparatedDataGiveCondOT) {
  const auto sep = separated();
  const auto ko = kinetic_optimal_closed_form(sep, 64);
  EXPECT_NEAR(ko.phi, M_PI / 2, 1e-9);
  EXPECT_NEAR(ko.energy, 2.0, 1e-9);
  EXPECT_LT(max_abs(a_of(ko) - ko.t), 1e-7);
  EXPECT_LT(max_abs(m_of(ko) - (1 - ko.t)), 1e-7);
  EXPECT_NEAR(path_kinetic_energy(CondOTPath(), sep).energy, 2.0, 1e-4);
  const auto minimised = kinetic_optimal_minimised(sep, 32);
  EXPECT_NEAR(minimised.energy, 2.0, 2e-3);  // piecewise linear in polar coordinates: not exactly straight
  EXPECT_LT(max_abs(a_of(minimised) - minimised.t), 2e-3);
}

// Two points +-v, |v|^2 = d. Reference values from SciPy quad on the same integrals (theory.md's
// table gives 0.689/0.457/0.980 for d = 1, about 2e-3 below these).
struct TwoPointCase {
  int d;
  double phi, ko_energy, cond_ot_energy;
};
const TwoPointCase kTwoPointCases[] = {
    {1, 0.6912643934, 0.4591188694, 0.9823983431},
    {2, 1.0341981035, 0.9775694219, 1.2804469679},
    {8, 1.3168379439, 1.4975253254, 1.6402234839},
};

TEST(KineticOptimal, TwoPointClosedFormMatchesReference) {
  for (const auto& c : kTwoPointCases) {
    const auto sep = two_point_separation(c.d);
    const auto ko = kinetic_optimal_closed_form(sep, 256);
    EXPECT_NEAR(ko.phi, c.phi, 2e-4) << "d = " << c.d;
    EXPECT_NEAR(ko.energy, c.ko_energy, 2e-4) << "d = " << c.d;
    EXPECT_NEAR(path_kinetic_energy(CondOTPath(), sep).energy, c.cond_ot_energy, 2e-4) << "d = " << c.d;
    // The tabulated path (monotone cubics through r and theta) has nearly the optimal energy.
    const double table = path_kinetic_energy(KineticOptimalPath(ko), sep).energy;
    EXPECT_GT(table, ko.energy - 2e-4) << "d = " << c.d;
    EXPECT_LT(table, ko.energy + 3e-3) << "d = " << c.d;
  }
}

// The closed form and the direct minimisation are independent solutions of the same problem: the
// minimum over piecewise-linear schedules lies just above the exact infimum, and the schedules agree
// where the energy determines them (gamma > 0; where the data look Gaussian, gamma ~ 0 and every
// turn is nearly free, so only the energy is compared: `compare_schedules` false).
void expect_solutions_agree(const DataSeparation& sep, const std::string& what, bool compare_schedules = true) {
  const auto closed = kinetic_optimal_closed_form(sep, 256);
  const auto minimised = kinetic_optimal_minimised(sep, 64);
  EXPECT_GT(minimised.energy, closed.energy - 2e-4) << what;
  EXPECT_LT(minimised.energy, closed.energy + 2e-3 * std::max(1.0, closed.energy)) << what;
  if (compare_schedules) EXPECT_LT(schedule_gap(closed, minimised), 0.02) << what;
}

TEST(KineticOptimal, ClosedFormAndMinimisationAgree) {
  for (const auto& c : kTwoPointCases) {
    // d = 1: gamma = O(theta^6) at low angles (lambda matches the Gaussian's to 4th order in s).
    expect_solutions_agree(two_point_separation(c.d), "two points, d = " + std::to_string(c.d), c.d > 1);
  }
  auto gen = data::make_generator(7);
  // A 5-component mixture in 2-D and the same data scaled by 3 (mu2 ~ 9 tests the general endpoint).
  const auto centres = torch::randn({5, 2}, gen, torch::kFloat64) * 2;
  const auto labels = torch::randint(5, {4000}, gen, torch::kLong);
  const auto mixture = centres.index_select(0, labels) + 0.3 * torch::randn({4000, 2}, gen, torch::kFloat64);
  SeparationOptions options;
  options.knots = 24;
  options.noise_samples = 1024;
  for (double scale : {1.0, 3.0}) {
    auto estimate_gen = data::make_generator(8);
    const auto sep = DataSeparation::estimate(scale * mixture, options, estimate_gen);
    expect_solutions_agree(sep, "mixture, scale " + std::to_string(scale));
  }
}

// Gaussian data: gamma = 0, every path with r = 1 (trig) costs nothing; Cond-OT does not.
TEST(KineticOptimal, GaussianDataMakeTheTrigPathOptimal) {
  SeparationOptions grid;
  grid.knots = 60;
  grid.s_min = 1e-3;
  grid.s_max = 1e3;
  const auto sep = DataSeparation::from_posterior_error([](double s) { return 1.0 / (1.0 + s * s); }, 0.0, 1.0, grid);
  const auto ko = kinetic_optimal_closed_form(sep, 128);
  EXPECT_LT(ko.energy, 1e-4);
  EXPECT_LT(path_kinetic_energy(TrigPath(), sep).energy, 1e-3);
  // Cond-OT on N(0, I): r = sqrt(t^2 + (1-t)^2), E = int r'^2 = int (2t - 1)^2 / r^2 = 2 - pi/2.
  EXPECT_NEAR(path_kinetic_energy(CondOTPath(), sep).energy, 2.0 - M_PI / 2, 2e-3);
  // The closed form stays on the unit circle.
  EXPECT_LT(max_abs(ko.r - 1.0), 1e-4);
}

// The lambda formula equals the Monte-Carlo energy of the exact marginal field.
TEST(KineticEnergy, FormulaEqualsMonteCarloOfTheExactField) {
  const int d = 2;
  const auto data = two_point_data(d);
  const auto sep = two_point_separation(d);
  const auto ko = std::make_unique<KineticOptimalPath>(kinetic_optimal_closed_form(sep, 256));
  const CondOTPath cond_ot;
  const TrigPath trig;
  const std::pair<const Path*, std::string> cases[] = {{&cond_ot, "cond_ot"}, {&trig, "trig"}, {ko.get(), "ko"}};
  for (const auto& [path, name] : cases) {
    auto gen = data::make_generator(21);
    const auto x1 = data.index_select(0, torch::randint(2, {200000}, gen, torch::kLong)).to(torch::kFloat64);
    const EnergyEstimate mc = field_kinetic_energy(exact_velocity(*path, data), *path, x1, gen, 50000);
    const double formula = path_kinetic_energy(*path, sep).energy;
    EXPECT_NEAR(mc.value, formula, 4 * mc.se) << name << ": formula " << formula << ", Monte Carlo " << mc.value;
    EXPECT_LT(mc.se, 0.02 * formula) << name;
  }
}

TEST(KineticOptimalPath, FitsFromDataAndTravelsInItsState) {
  auto path = make_path("type: kinetic_optimal\ndata_points: 500\nnoise_samples: 256\nknots: 12\nintervals: 64\n");
  EXPECT_TRUE(path->needs_fit());
  EXPECT_THROW(path->at(torch::tensor({0.5}, torch::kFloat64)), Error);
  auto gen = data::make_generator(3);
  const auto data = torch::randn({2000, 2}, gen) * 0.1 + torch::tensor({1.0f, -1.0f});
  int64_t asked = 0;
  const std::string line = path->fit(
      [&](int64_t n) {
        asked = n;
        return data.slice(0, 0, n);
      },
      9);
  EXPECT_EQ(asked, 500);
  EXPECT_NE(line.find("closed form"), std::string::npos) << line;
  EXPECT_FALSE(path->needs_fit());
  const auto t = torch::linspace(0, 1, 33, torch::kFloat64);
  const Coefficients c = path->at(t);
  EXPECT_NEAR(c.beta[-1].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(c.alpha[0].item<double>(), 1.0, 1e-12);

  auto restored = make_path("type: kinetic_optimal\n");
  restored->load_state(path->state());
  EXPECT_FALSE(restored->needs_fit());
  const Coefficients r = restored->at(t);
  EXPECT_TRUE(torch::equal(r.alpha, c.alpha));
  EXPECT_TRUE(torch::equal(r.d_beta, c.d_beta));
  EXPECT_THROW(restored->load_state({}), Error);
}

TEST(KineticOptimalPath, ConfigErrorsNameTheirKey) {
  const auto fails_at = [](const std::string& yaml, const std::string& key) {
    testing::expect_config_error([&] { make_path(yaml); }, {key});
  };
  fails_at("type: kinetic_optimal\nmethod: fastest\n", "method");
  fails_at("type: kinetic_optimal\nknots: 1\n", "knots");
  fails_at("type: kinetic_optimal\ns_min: 10\ns_max: 1\n", "s_max");
  fails_at("type: kinetic_optimal\ndata_point: 10\n", "data_point");
}

}  // namespace
}  // namespace flowlab::paths
