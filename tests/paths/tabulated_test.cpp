// The tabulated path: exact on tables of linear coefficients, close to the path it
// samples elsewhere, derivatives from the same cubics, the config in both forms with
// errors naming their key, and the table's round trip through state().
#include "flowlab/paths/tabulated.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "flowlab/io/npy.h"
#include "paths/gaussian_conversions.h"
#include "paths/make_path.h"
#include "support/helpers.h"
#include "support/config_error.h"

namespace flowlab::paths {
namespace {


// "[a, b, ...]" with every float64 bit.
std::string yaml_list(const torch::Tensor& v) {
  std::string out = "[";
  char buffer[32];
  for (int64_t i = 0; i < v.numel(); ++i) {
    std::snprintf(buffer, sizeof(buffer), "%s%.17g", i ? ", " : "", v[i].item<double>());
    out += buffer;
  }
  return out + "]";
}

// The trig path sampled on `knots`.
TabulatedPath trig_table(const torch::Tensor& knots) {
  return TabulatedPath(knots, torch::cos(knots * M_PI / 2), torch::sin(knots * M_PI / 2), torch::zeros_like(knots));
}

// A two-sided table with a gamma bump: alpha = 1 - t, beta = t, gamma = sin^2(pi t) / 2.
TabulatedPath bump_table(const torch::Tensor& knots) {
  return TabulatedPath(knots, 1 - knots, knots.clone(), 0.5 * torch::sin(M_PI * knots).pow(2), false);
}

void expect_same(const Coefficients& a, const Coefficients& b) {
  EXPECT_TRUE(torch::equal(a.alpha, b.alpha));
  EXPECT_TRUE(torch::equal(a.beta, b.beta));
  EXPECT_TRUE(torch::equal(a.gamma, b.gamma));
  EXPECT_TRUE(torch::equal(a.d_alpha, b.d_alpha));
  EXPECT_TRUE(torch::equal(a.d_beta, b.d_beta));
  EXPECT_TRUE(torch::equal(a.d_gamma, b.d_gamma));
}

using testing::config_error_of;

TEST(Tabulated, LinearTableIsCondOtEverywhere) {
  const auto knots = f64({0, 0.05, 0.3, 0.31, 0.7, 1});
  const TabulatedPath path(knots, 1 - knots, knots.clone(), torch::zeros_like(knots));
  const auto t = torch::linspace(0, 1, 201, torch::kFloat64);
  const Coefficients c = path.at(t);
  EXPECT_TRUE(torch::allclose(c.alpha, 1 - t, 0, 1e-15));
  EXPECT_TRUE(torch::allclose(c.beta, t, 0, 1e-15));
  EXPECT_TRUE(torch::allclose(c.d_alpha, -torch::ones_like(t), 0, 1e-13));
  EXPECT_TRUE(torch::allclose(c.d_beta, torch::ones_like(t), 0, 1e-13));
  EXPECT_EQ(c.gamma.abs().max().item<double>(), 0.0);
  EXPECT_TRUE(path.deterministic());
  EXPECT_TRUE(path.gaussian_source());
}

TEST(Tabulated, TrigTableIsExactAtKnotsAndConvergesBetweenThem) {
  auto trig = make_path("type: trig\n");
  double previous_error = 0;
  for (int64_t k : {10, 20, 40}) {
    const auto knots = torch::linspace(0, 1, k + 1, torch::kFloat64);
    const TabulatedPath path = trig_table(knots);
    const Coefficients at_knots = path.at(knots), exact_knots = trig->at(knots);
    EXPECT_TRUE(torch::allclose(at_knots.alpha, exact_knots.alpha, 0, 1e-15)) << k;
    EXPECT_TRUE(torch::allclose(at_knots.beta, exact_knots.beta, 0, 1e-15)) << k;
    const auto t = torch::linspace(0, 1, 1001, torch::kFloat64);
    const Coefficients c = path.at(t), exact = trig->at(t);
    const double error = std::max((c.alpha - exact.alpha).abs().max().item<double>(),
                                  (c.beta - exact.beta).abs().max().item<double>());
    const double slope_error = std::max((c.d_alpha - exact.d_alpha).abs().max().item<double>(),
                                        (c.d_beta - exact.d_beta).abs().max().item<double>());
    // Second order in the spacing: at the ends the slope of cos or sin vanishes and the
    // harmonic-mean slopes of the monotone cubic are only first-order accurate there.
    EXPECT_LT(error, 0.12 / static_cast<double>(k * k)) << k;
    EXPECT_LT(slope_error, 0.8 / static_cast<double>(k)) << k;
    if (previous_error > 0) EXPECT_LT(error, previous_error / 3.5) << k;
    previous_error = error;
  }
}

TEST(Tabulated, DerivativesMatchCentralDifferences) {
  const TabulatedPath path = bump_table(f64({0, 0.15, 0.35, 0.6, 0.85, 1}));
  const auto t = f64({0.05, 0.2, 0.45, 0.55, 0.8, 0.95});
  const double h = 1e-6;
  const Coefficients c = path.at(t), up = path.at(t + h), down = path.at(t - h);
  EXPECT_TRUE(torch::allclose(c.d_alpha, (up.alpha - down.alpha) / (2 * h), 1e-7, 1e-7));
  EXPECT_TRUE(torch::allclose(c.d_beta, (up.beta - down.beta) / (2 * h), 1e-7, 1e-7));
  EXPECT_TRUE(torch::allclose(c.d_gamma, (up.gamma - down.gamma) / (2 * h), 1e-7, 1e-7));
  EXPECT_TRUE(torch::allclose(c.gamma_d_gamma, c.gamma * c.d_gamma, 1e-14, 1e-14));
  EXPECT_FALSE(path.deterministic());
  EXPECT_FALSE(path.gaussian_source());
}

TEST(Tabulated, EndpointsAndGammaStayValid) {
  // Endpoint values within 1e-9 of exact are accepted and made exact.
  const auto knots = f64({0, 0.1, 0.5, 0.9, 1});
  const TabulatedPath path(knots, f64({1 + 1e-12, 0.9, 0.5, 0.1, 1e-12}), f64({-1e-12, 0.1, 0.5, 0.9, 1}),
                           f64({1e-13, 0.8, 0, 0.8, 0}));
  const Coefficients c = path.at(f64({0, 1}));
  EXPECT_EQ(c.alpha[0].item<double>(), 1.0);
  EXPECT_EQ(c.beta[0].item<double>(), 0.0);
  EXPECT_EQ(c.alpha[1].item<double>(), 0.0);
  EXPECT_EQ(c.beta[1].item<double>(), 1.0);
  EXPECT_EQ(c.gamma[0].item<double>(), 0.0);
  EXPECT_EQ(c.gamma[1].item<double>(), 0.0);
  // gamma touches 0 at t = 0.5 between two peaks: the interpolant never dips below it.
  EXPECT_GE(path.at(torch::linspace(0, 1, 2001, torch::kFloat64)).gamma.min().item<double>(), 0.0);
}

TEST(Tabulated, SampleFollowsTheInterpolant) {
  const TabulatedPath path = bump_table(f64({0, 0.25, 0.5, 0.75, 1}));
  torch::manual_seed(10);
  const auto x0 = torch::randn({4, 3}, torch::kFloat64), x1 = torch::randn({4, 3}, torch::kFloat64);
  const auto z = torch::randn({4, 3}, torch::kFloat64);
  const auto t = f64({0.1, 0.3, 0.6, 0.9});
  // alpha, beta are linear, so exactly 1 - t and t; gamma from its cubic.
  const Coefficients c = path.at(t);
  auto col = [](const torch::Tensor& v) { return v.unsqueeze(1); };
  const PathSample s = path.sample(x0, x1, t, z);
  EXPECT_TRUE(torch::allclose(s.x_t, col(1 - t) * x0 + col(t) * x1 + col(c.gamma) * z, 1e-14, 1e-14));
  EXPECT_TRUE(torch::allclose(s.dx_t, x1 - x0 + col(c.d_gamma) * z, 1e-13, 1e-13));
}

TEST(Tabulated, ConversionsRoundTripOnAGaussianSource) {
  const TabulatedPath path = trig_table(torch::linspace(0, 1, 9, torch::kFloat64));
  expect_conversions_round_trip(path, "tabulated trig");
  expect_gaussian_data_closed_form(path, "tabulated trig");
  // A Gaussian source with gamma > 0 too: then sigma^2 = alpha^2 + gamma^2.
  const auto knots = torch::linspace(0, 1, 9, torch::kFloat64);
  const TabulatedPath noisy(knots, 1 - knots, knots.clone(), 0.3 * torch::sin(M_PI * knots), true);
  expect_gaussian_data_closed_form(noisy, "tabulated noisy");
}

TEST(Tabulated, ConfigListsAndFileGiveTheSamePath) {
  const auto knots = f64({0, 0.2, 0.5, 0.8, 1});
  const auto alpha = torch::cos(knots * M_PI / 2), beta = torch::sin(knots * M_PI / 2);
  const auto gamma = f64({0, 0.1, 0.2, 0.1, 0});
  auto from_lists = make_path("type: tabulated\nt: " + yaml_list(knots) + "\nalpha: " + yaml_list(alpha) +
                              "\nbeta: " + yaml_list(beta) + "\ngamma: " + yaml_list(gamma) + "\nsource: any\n");
  ::flowlab::testing::TempDir dir;
  io::write_npy(dir.file("four.npy"), torch::stack({knots, alpha, beta, gamma}, 1));
  io::write_npy(dir.file("three.npy"), torch::stack({knots, alpha, beta}, 1).to(torch::kFloat32));
  auto from_file = make_path("type: tabulated\nfile: " + dir.file("four.npy") + "\nsource: any\n");
  const auto t = torch::linspace(0, 1, 37, torch::kFloat64);
  expect_same(from_lists->at(t), from_file->at(t));
  EXPECT_FALSE(from_lists->gaussian_source());
  EXPECT_FALSE(from_lists->deterministic());
  // Three columns: gamma = 0; float32 files are read as float64.
  auto three = make_path("type: tabulated\nfile: " + dir.file("three.npy") + "\n");
  EXPECT_TRUE(three->deterministic());
  EXPECT_TRUE(three->gaussian_source());
  EXPECT_TRUE(torch::allclose(three->at(knots).alpha, alpha, 0, 1e-7));
  // Without gamma the lists give a deterministic path.
  auto no_gamma = make_path("type: tabulated\nt: [0, 1]\nalpha: [1, 0]\nbeta: [0, 1]\n");
  EXPECT_TRUE(no_gamma->deterministic());
}

TEST(Tabulated, ConfigErrorsNameTheirKey) {
  const std::string ok_beta = "beta: [0, 0.5, 1]\n";
  struct Case {
    std::string yaml, key;
  };
  const std::vector<Case> cases = {
      {"t: [0, 0.6, 0.5, 1]\nalpha: [1, 0.5, 0.4, 0]\nbeta: [0, 0.5, 0.6, 1]\n", "t: must be strictly increasing"},
      {"t: [0, 0.5, 0.5, 1]\nalpha: [1, 0.5, 0.4, 0]\nbeta: [0, 0.5, 0.6, 1]\n", "t: must be strictly increasing"},
      {"t: [0.1, 0.5, 1]\nalpha: [1, 0.5, 0]\n" + ok_beta, "t: the grid must run from"},
      {"t: [0, 0.5, 0.9]\nalpha: [1, 0.5, 0]\n" + ok_beta, "t: the grid must run from"},
      {"t: [0]\nalpha: [1]\nbeta: [0]\n", "t: needs at least 2 points"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0]\n" + ok_beta, "alpha: needs one value per time"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0.5, 0]\nbeta: [0, 1]\n", "beta: needs one value per time"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0.5, 0]\n" + ok_beta + "gamma: [0, 0.1]\n", "gamma: needs one value per time"},
      {"t: [0, 0.5, 1]\nalpha: [0.9, 0.5, 0]\n" + ok_beta, "alpha: alpha(0)"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0.5, 0.1]\n" + ok_beta, "alpha: alpha(1)"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0.5, 0]\nbeta: [0.2, 0.5, 1]\n", "beta: beta(0)"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0.5, 0]\nbeta: [0, 0.5, 0.9]\n", "beta: beta(1)"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0.5, 0]\n" + ok_beta + "gamma: [0, -0.1, 0]\n", "gamma: must be >= 0"},
      {"t: [0, 0.5, 1]\nalpha: [1, 0.5, 0]\n" + ok_beta + "gamma: [0.1, 0.1, 0]\n", "gamma: gamma(0)"},
      {"alpha: [1, 0]\nbeta: [0, 1]\n", "t: missing"},
      {"", "t: missing"},
      {"t: [0, 1]\nalpha: [1, 0]\nbeta: [0, 1]\nfile: x.npy\n", "file: give either file or the lists"},
      {"file: /nonexistent/schedule.npy\n", "file: "},
      {"t: [0, 1]\nalpha: [1, 0]\nbeta: [0, 1]\nsource: uniform\n", "source: "},
      {"t: [0, 1]\nalpha: [1, 0]\nbeta: [0, 1]\ngama: [0, 0]\n", "gama"},
  };
  for (const Case& c : cases) {
    const std::string message = config_error_of([&] { make_path("type: tabulated\n" + c.yaml); });
    EXPECT_NE(message.find(c.key), std::string::npos) << c.yaml << "\n=> " << message;
  }
  // A file with the wrong shape or a bad table names the file key and the column.
  ::flowlab::testing::TempDir dir;
  io::write_npy(dir.file("wide.npy"), torch::zeros({3, 5}, torch::kFloat64));
  io::write_npy(dir.file("bad.npy"), torch::stack({f64({0, 0.5, 1}), f64({1, 0.5, 0}), f64({0, 0.5, 0.8})}, 1));
  EXPECT_NE(config_error_of([&] { make_path("type: tabulated\nfile: " + dir.file("wide.npy") + "\n"); })
                .find("file: '" + dir.file("wide.npy") + "' must hold a numeric array [K+1, 3 or 4]"),
            std::string::npos);
  EXPECT_NE(config_error_of([&] { make_path("type: tabulated\nfile: " + dir.file("bad.npy") + "\n"); })
                .find("column beta: beta(1)"),
            std::string::npos);
}

TEST(Tabulated, ProgrammaticTablesAreChecked) {
  const auto knots = f64({0, 0.5, 1});
  EXPECT_THROW(TabulatedPath(knots, f64({1, 0.5, 0.2}), f64({0, 0.5, 1}), torch::zeros({3}, torch::kFloat64)), Error);
  EXPECT_THROW(TabulatedPath(f64({0, 1, 0.5}), f64({1, 0.5, 0}), f64({0, 0.5, 1}), torch::zeros({3}, torch::kFloat64)),
               Error);
  EXPECT_THROW(TabulatedPath(knots, f64({1, 0}), f64({0, 0.5, 1}), torch::zeros({3}, torch::kFloat64)), Error);
  EXPECT_THROW(TabulatedPath(knots, torch::ones({3, 1}, torch::kFloat64), f64({0, 0.5, 1}),
                             torch::zeros({3}, torch::kFloat64)),
               std::exception);
}

TEST(Tabulated, StateRoundTrips) {
  const auto knots = f64({0, 0.2, 0.5, 0.8, 1});
  const TabulatedPath original = bump_table(knots);
  TabulatedPath restored(knots, 1 - knots * knots, knots * knots, torch::zeros_like(knots), false);
  auto state = original.state();
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state[0].first, "t");
  EXPECT_TRUE(torch::equal(state[0].second, knots));
  restored.load_state(state);
  const auto t = torch::linspace(0, 1, 51, torch::kFloat64);
  const Coefficients a = original.at(t);
  expect_same(a, restored.at(t));
  EXPECT_FALSE(restored.deterministic());
  // state() hands out copies: changing them does not change the path.
  state[1].second.fill_(7.0);
  EXPECT_TRUE(torch::equal(original.at(t).alpha, a.alpha));
}

TEST(Tabulated, LoadStateRejectsMismatches) {
  const auto knots = f64({0, 0.5, 1});
  TabulatedPath path(knots, 1 - knots, knots.clone(), torch::zeros_like(knots));
  const auto good = path.state();
  auto without_gamma = good;
  without_gamma.pop_back();
  EXPECT_THROW(path.load_state(without_gamma), Error);
  auto renamed = good;
  renamed[2].first = "b";
  EXPECT_THROW(path.load_state(renamed), Error);
  auto twice = good;
  twice[3].first = "beta";
  EXPECT_THROW(path.load_state(twice), Error);
  auto longer = bump_table(f64({0, 0.25, 0.5, 1})).state();
  EXPECT_THROW(path.load_state(longer), Error);
  auto bad_endpoint = good;
  bad_endpoint[1].second = f64({1, 0.5, 0.3});
  EXPECT_THROW(path.load_state(bad_endpoint), Error);
  // A rejected state leaves the path as it was.
  EXPECT_TRUE(torch::allclose(path.at(f64({0.25})).alpha, f64({0.75}), 0, 1e-15));
  EXPECT_TRUE(path.deterministic());
}

TEST(Tabulated, PathsWithoutTablesHaveNoState) {
  auto path = make_path("type: cond_ot\n");
  EXPECT_TRUE(path->state().empty());
  EXPECT_NO_THROW(path->load_state({}));
}

}  // namespace
}  // namespace flowlab::paths
