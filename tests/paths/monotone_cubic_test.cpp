// Monotone cubic interpolation: SciPy's PchipInterpolator as the oracle, exactness on
// linear data, no overshoot on monotone data, and derivatives against finite differences.
#include "paths/make_path.h"
#include "flowlab/paths/monotone_cubic.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "support/helpers.h"

namespace flowlab::paths {
namespace {


// A Python list literal that keeps every float64 bit.
std::string python_list(const torch::Tensor& v) {
  const torch::Tensor flat = v.to(torch::kFloat64).contiguous();
  std::string out = "[";
  char buffer[32];
  for (int64_t i = 0; i < flat.numel(); ++i) {
    std::snprintf(buffer, sizeof(buffer), "%.17g,", flat.data_ptr<double>()[i]);
    out += buffer;
  }
  return out + "]";
}

torch::Tensor parse_numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> numbers;
  std::string word;
  while (in >> word) numbers.push_back(std::stod(word));
  return torch::tensor(numbers, torch::kFloat64);
}

TEST(MonotoneCubic, MatchesScipyPchip) {
  if (!::flowlab::testing::python_has("scipy")) GTEST_SKIP() << "the oracle python has no scipy";
  torch::manual_seed(8);
  const auto random_knots = torch::cat({torch::zeros({1}, torch::kFloat64),
                                        std::get<0>(torch::rand({6}, torch::kFloat64).sort()),
                                        torch::ones({1}, torch::kFloat64)});
  struct Case {
    torch::Tensor knots, values;
  };
  const std::vector<Case> cases = {
      {random_knots, torch::randn({8}, torch::kFloat64)},                    // extrema and sign changes
      {random_knots, torch::rand({8}, torch::kFloat64).cumsum(0)},           // increasing
      {random_knots, f64({1, 1, 0.9, 0.2, 0.2, 0.1, 0.0, 0.0})},             // flat parts
      {f64({0, 0.3, 1}), f64({0, 1, 1.2})},                                  // three points
      {f64({0, 0.05, 0.1, 0.9, 1}), f64({0, 1, 0.5, 0.6, 0})},               // uneven spacing
      {f64({-1, 2}), f64({3, -1})},                                          // two points: a line
  };
  for (const Case& c : cases) {
    const double lo = c.knots[0].item<double>(), hi = c.knots[-1].item<double>();
    const auto x = torch::cat({torch::linspace(lo, hi, 57, torch::kFloat64), c.knots});
    const std::string output = ::flowlab::testing::run_python(
        "from scipy.interpolate import PchipInterpolator\n"
        "p = PchipInterpolator(" + python_list(c.knots) + ", " + python_list(c.values) + ")\n"
        "x = " + python_list(x) + "\n"
        "for v in list(p(x)) + list(p.derivative()(x)): print('%.17g' % v)\n");
    const auto expected = parse_numbers(output);
    ASSERT_EQ(expected.size(0), 2 * x.size(0));
    const MonotoneCubic cubic(c.knots, c.values);
    const auto e = cubic.evaluate(x);
    EXPECT_TRUE(torch::allclose(e.value, expected.slice(0, 0, x.size(0)), 1e-12, 1e-12)) << c.values;
    EXPECT_TRUE(torch::allclose(e.derivative, expected.slice(0, x.size(0)), 1e-10, 1e-10)) << c.values;
  }
}

TEST(MonotoneCubic, PassesThroughTheKnotsExactly) {
  const auto knots = f64({0, 0.1, 0.35, 0.6, 1}), values = f64({2, -1, 0.5, 0.5, 3});
  const MonotoneCubic cubic(knots, values);
  EXPECT_TRUE(torch::equal(cubic.evaluate(knots).value, values));
  // C1: the slope at a knot is the same from both sides.
  const double h = 1e-11;  // second derivatives here reach ~2e3
  const auto left = cubic.evaluate(knots.slice(0, 1, 4) - h).derivative;
  const auto right = cubic.evaluate(knots.slice(0, 1, 4) + h).derivative;
  EXPECT_TRUE(torch::allclose(left, right, 1e-6, 1e-6));
  // Data at a local extremum get slope 0, so the extremum is not exceeded.
  EXPECT_EQ(cubic.slopes()[1].item<double>(), 0.0);
  EXPECT_EQ(cubic.slopes()[2].item<double>(), 0.0);
}

TEST(MonotoneCubic, ReproducesLinearDataExactly) {
  const auto knots = f64({0, 0.07, 0.2, 0.5, 0.51, 1});
  const MonotoneCubic cubic(knots, 3 - 2 * knots);
  const auto x = torch::linspace(-0.1, 1.1, 121, torch::kFloat64);  // also the extended end cubics
  const auto e = cubic.evaluate(x);
  EXPECT_TRUE(torch::allclose(e.value, 3 - 2 * x, 0, 1e-14));
  EXPECT_TRUE(torch::allclose(e.derivative, torch::full_like(x, -2.0), 0, 1e-12));
}

TEST(MonotoneCubic, DoesNotOvershootMonotoneData) {
  // A step and a ramp with a sharp corner: an ordinary cubic spline rings around both.
  const std::vector<std::pair<torch::Tensor, torch::Tensor>> tables = {
      {f64({0, 0.2, 0.4, 0.5, 0.6, 0.8, 1}), f64({0, 0, 0, 1, 1, 1, 1})},
      {f64({0, 0.1, 0.2, 0.3, 1}), f64({0, 0.01, 0.02, 1, 1.01})},
  };
  torch::manual_seed(9);
  for (int trial = 0; trial < 5; ++trial) {
    const auto knots = torch::cat({torch::zeros({1}, torch::kFloat64), std::get<0>(torch::rand({8}, torch::kFloat64).sort()),
                                   torch::ones({1}, torch::kFloat64)});
    const auto values = (torch::rand({10}, torch::kFloat64).pow(4)).cumsum(0);  // very uneven steps
    const MonotoneCubic cubic(knots, values);
    const auto x = torch::linspace(0, 1, 2001, torch::kFloat64);
    const auto e = cubic.evaluate(x);
    EXPECT_GE(e.value.diff().min().item<double>(), -1e-15);
    EXPECT_GE(e.derivative.min().item<double>(), -1e-12);
  }
  for (const auto& [knots, values] : tables) {
    const MonotoneCubic cubic(knots, values);
    for (int64_t k = 0; k + 1 < knots.size(0); ++k) {
      const auto x = torch::linspace(knots[k].item<double>(), knots[k + 1].item<double>(), 101, torch::kFloat64);
      const auto v = cubic.evaluate(x).value;
      EXPECT_GE(v.min().item<double>(), values[k].item<double>() - 1e-15) << k;
      EXPECT_LE(v.max().item<double>(), values[k + 1].item<double>() + 1e-15) << k;
    }
  }
}

TEST(MonotoneCubic, DerivativeMatchesCentralDifferences) {
  const MonotoneCubic cubic(f64({0, 0.2, 0.3, 0.7, 1}), f64({1, 0.3, 0.4, -0.2, 0}));
  const auto x = f64({0.05, 0.15, 0.25, 0.5, 0.69, 0.9});
  const double h = 1e-6;
  const auto fd = (cubic.evaluate(x + h).value - cubic.evaluate(x - h).value) / (2 * h);
  EXPECT_TRUE(torch::allclose(cubic.evaluate(x).derivative, fd, 1e-7, 1e-7));
}

TEST(MonotoneCubic, KeepsTheQueryDtypeAndShape) {
  const MonotoneCubic cubic(f64({0, 0.5, 1}), f64({0, 0.8, 1}));
  const auto x = torch::rand({3, 4}, torch::kFloat32);
  const auto e = cubic.evaluate(x);
  EXPECT_EQ(e.value.dtype(), torch::kFloat32);
  EXPECT_EQ(e.value.sizes(), x.sizes());
  EXPECT_TRUE(torch::allclose(e.value.to(torch::kFloat64), cubic.evaluate(x.to(torch::kFloat64)).value, 1e-6, 1e-6));
}

TEST(MonotoneCubic, RejectsBadKnots) {
  EXPECT_THROW(MonotoneCubic(f64({0, 0.5, 0.5, 1}), f64({0, 1, 2, 3})), Error);
  EXPECT_THROW(MonotoneCubic(f64({0, 0.6, 0.5, 1}), f64({0, 1, 2, 3})), Error);
  EXPECT_THROW(MonotoneCubic(f64({0, 1}), f64({0, 1, 2})), std::exception);
  EXPECT_THROW(MonotoneCubic(f64({0}), f64({0})), std::exception);
  EXPECT_THROW(MonotoneCubic(f64({0, 1}), f64({0, NAN})), Error);
}

}  // namespace
}  // namespace flowlab::paths
