#include "flowlab/data/toy2d.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "data/data_test_util.h"
#include "flowlab/core/error.h"

namespace flowlab::data {
namespace {

using data_test::binomial_tolerance;
using data_test::make_dataset;
using data_test::thrown_message;

constexpr double kPi = 3.14159265358979323846;

torch::Tensor draw(const std::string& yaml, int64_t n, uint64_t seed = 7) {
  auto dataset = make_dataset(yaml);
  at::Generator gen = make_generator(seed);
  return dataset->sample(n, gen).x;
}

std::string toy(const std::string& name, const std::string& extra = "") {
  return "type: toy2d\nname: " + name + "\n" + extra;
}

TEST(Toy2d, EverySetHasShapeDtypeFiniteValuesAndStaysNearTheBox) {
  for (const std::string& name : toy2d_names()) {
    SCOPED_TRACE(name);
    const torch::Tensor x = draw(toy(name), 20000);
    ASSERT_EQ(x.sizes(), torch::IntArrayRef({20000, 2}));
    EXPECT_EQ(x.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
    // Defaults keep data roughly in [-4, 4]^2: nothing beyond 5, at most 1% beyond 4.
    EXPECT_LT(x.abs().max().item<double>(), 5.0);
    const double outside = (x.abs() > 4.0).any(1).to(torch::kFloat64).mean().item<double>();
    EXPECT_LT(outside, 0.01);
    // Not degenerate: both coordinates spread out.
    EXPECT_GT(x.std(0).min().item<double>(), 0.5);
  }
}

TEST(Toy2d, SameSeedGivesTheSameBatchDifferentSeedADifferentOne) {
  for (const std::string& name : toy2d_names()) {
    SCOPED_TRACE(name);
    const torch::Tensor a = draw(toy(name), 1000, 42);
    const torch::Tensor b = draw(toy(name), 1000, 42);
    const torch::Tensor c = draw(toy(name), 1000, 43);
    EXPECT_TRUE(torch::equal(a, b));
    EXPECT_FALSE(torch::equal(a, c));
    EXPECT_GT((a - c).abs().max().item<double>(), 0.1);
  }
}

TEST(Toy2d, ConsecutiveBatchesContinueTheStream) {
  auto dataset = make_dataset(toy("moons"));
  at::Generator gen = make_generator(5);
  const torch::Tensor first = dataset->sample(100, gen).x;
  const torch::Tensor second = dataset->sample(100, gen).x;
  EXPECT_FALSE(torch::equal(first, second));
}

TEST(Toy2d, NoiselessMoonsLieOnTheirUnitHalfCircles) {
  const int64_t n = 20000;
  const torch::Tensor p = draw(toy("moons", "noise: 0\n"), n).to(torch::kFloat64) / 2.0;  // back to unit moons
  const torch::Tensor upper_centre = torch::tensor({-0.5, -0.25}, torch::kFloat64);
  const torch::Tensor lower_centre = torch::tensor({0.5, 0.25}, torch::kFloat64);
  const torch::Tensor to_upper = p - upper_centre, to_lower = p - lower_centre;
  const torch::Tensor off_upper = (to_upper.norm(2, 1) - 1.0).abs();
  const torch::Tensor off_lower = (to_lower.norm(2, 1) - 1.0).abs();
  const torch::Tensor on_upper = off_upper < 1e-5;
  const torch::Tensor on_lower = off_lower < 1e-5;
  EXPECT_TRUE((on_upper | on_lower).all().item<bool>()) << "max distance to a circle "
                                                         << torch::minimum(off_upper, off_lower).max().item<double>();
  // The upper moon is the top half of its circle, the lower moon the bottom half of its own.
  const torch::Tensor upper_only = on_upper & ~on_lower, lower_only = on_lower & ~on_upper;
  EXPECT_GE(to_upper.select(1, 1).masked_select(upper_only).min().item<double>(), -1e-6);
  EXPECT_LE(to_lower.select(1, 1).masked_select(lower_only).max().item<double>(), 1e-6);
  // Each moon holds half the points.
  const double upper_count = on_upper.sum().item<double>();
  EXPECT_NEAR(upper_count, n / 2.0, binomial_tolerance(n, 0.5) + on_lower.logical_and(on_upper).sum().item<double>());
}

TEST(Toy2d, NoisyMoonsStayWithinFourSigmaOfTheCircles) {
  const torch::Tensor x = draw(toy("moons"), 20000).to(torch::kFloat64);  // scale 2, noise 0.1
  const torch::Tensor off_upper = ((x - torch::tensor({-1.0, -0.5}, torch::kFloat64)).norm(2, 1) - 2.0).abs();
  const torch::Tensor off_lower = ((x - torch::tensor({1.0, 0.5}, torch::kFloat64)).norm(2, 1) - 2.0).abs();
  const torch::Tensor off = torch::minimum(off_upper, off_lower);
  EXPECT_LT((off > 0.4).to(torch::kFloat64).mean().item<double>(), 0.001);
  // Noise is really there: typical distance is a fraction of its std, not zero.
  EXPECT_GT(off.median().item<double>(), 0.02);
}

TEST(Toy2d, CirclesRadiiClusterAtTheTwoRadiiInEqualShares) {
  const int64_t n = 40000;
  const torch::Tensor clean = draw(toy("circles", "noise: 0\n"), n).to(torch::kFloat64);
  const torch::Tensor r = clean.norm(2, 1) / 3.0;  // default scale 3
  const torch::Tensor outer = (r - 1.0).abs() < 1e-5, inner = (r - 0.5).abs() < 1e-5;
  EXPECT_TRUE((outer | inner).all().item<bool>());
  EXPECT_NEAR(outer.sum().item<double>(), n / 2.0, binomial_tolerance(n, 0.5));
  // Angles uniform: the mean direction vanishes (each coordinate has std ~ r / sqrt(2)).
  const torch::Tensor direction = clean / clean.norm(2, 1, true);
  EXPECT_LT(direction.mean(0).abs().max().item<double>(), 5.0 / std::sqrt(2.0 * n));

  const torch::Tensor noisy_r = draw(toy("circles"), n).to(torch::kFloat64).norm(2, 1);
  const torch::Tensor gap = torch::minimum((noisy_r - 3.0).abs(), (noisy_r - 1.5).abs());
  EXPECT_LT((gap > 0.5).to(torch::kFloat64).mean().item<double>(), 1e-3);  // 5 noise stds
}

TEST(Toy2d, EightGaussiansFillEachCentreEquallyWithTheRequestedStd) {
  const int64_t n = 80000;
  const torch::Tensor x = draw(toy("eight_gaussians"), n).to(torch::kFloat64);
  const torch::Tensor angles = torch::arange(8, torch::kFloat64) * (kPi / 4.0);
  const torch::Tensor centres = 2.0 * torch::stack({torch::cos(angles), torch::sin(angles)}, 1);  // [8, 2]
  const torch::Tensor nearest = torch::cdist(x, centres).argmin(1);
  const torch::Tensor counts = torch::bincount(nearest, {}, 8).to(torch::kFloat64);
  for (int64_t k = 0; k < 8; ++k) {
    EXPECT_NEAR(counts[k].item<double>(), n / 8.0, binomial_tolerance(n, 1.0 / 8.0)) << "centre " << k;
  }
  const torch::Tensor residual = x - centres.index_select(0, nearest);
  const torch::Tensor std = residual.std(0);
  EXPECT_NEAR(std[0].item<double>(), 0.2, 0.006);
  EXPECT_NEAR(std[1].item<double>(), 0.2, 0.006);
  EXPECT_LT(residual.mean(0).abs().max().item<double>(), 5 * 0.2 / std::sqrt(n));
}

TEST(Toy2d, EightGaussiansRadiusAndStdFollowScaleAndNoise) {
  const torch::Tensor x = draw(toy("eight_gaussians", "scale: 1.5\nnoise: 0\n"), 1000).to(torch::kFloat64);
  EXPECT_LT((x.norm(2, 1) - 3.0).abs().max().item<double>(), 1e-5);
}

TEST(Toy2d, CheckerboardFillsTheEightSquaresUniformly) {
  const int64_t n = 80000;
  const torch::Tensor x = draw(toy("checkerboard"), n).to(torch::kFloat64);
  EXPECT_GE(x.min().item<double>(), -4.0);
  EXPECT_LT(x.max().item<double>(), 4.0);
  // Cells of side 2 indexed 0..3 from -4; the black squares are those with an even index sum.
  const torch::Tensor cell = torch::floor(x / 2.0).to(torch::kInt64) + 2;
  const torch::Tensor column = cell.select(1, 0), row = cell.select(1, 1);
  EXPECT_TRUE(((column + row) % 2 == 0).all().item<bool>());
  // The squares are (column, row) in {(0,0),(0,2),(1,1),(1,3),(2,0),(2,2),(3,1),(3,3)}.
  const torch::Tensor counts = torch::bincount(column * 4 + row, {}, 16).to(torch::kFloat64);
  for (int64_t c = 0; c < 4; ++c) {
    for (int64_t r = 0; r < 4; ++r) {
      const double count = counts[c * 4 + r].item<double>();
      if ((c + r) % 2 == 0) {
        EXPECT_NEAR(count, n / 8.0, binomial_tolerance(n, 1.0 / 8.0)) << "square " << c << "," << r;
      } else {
        EXPECT_EQ(count, 0.0) << "square " << c << "," << r;
      }
    }
  }
  // Uniform inside a square: the offset within the cell has mean 1 and variance 4/12.
  const torch::Tensor offset = x - 2.0 * torch::floor(x / 2.0);
  EXPECT_LT((offset.mean(0) - 1.0).abs().max().item<double>(), 5.0 * std::sqrt(4.0 / 12.0 / n));
  EXPECT_LT((offset.var(0) - 4.0 / 12.0).abs().max().item<double>(), 0.01);
}

TEST(Toy2d, NoiselessTwoSpiralsLieOnTheArmsWithUniformSquaredRadius) {
  const int64_t n = 40000;
  const torch::Tensor p = draw(toy("two_spirals", "noise: 0\nscale: 1\n"), n).to(torch::kFloat64);
  const torch::Tensor t = p.norm(2, 1);
  const torch::Tensor arm = torch::stack({-t * torch::cos(t), t * torch::sin(t)}, 1);
  const torch::Tensor off = torch::minimum((p - arm).norm(2, 1), (p + arm).norm(2, 1));
  EXPECT_LT(off.max().item<double>(), 1e-4);
  EXPECT_LE(t.max().item<double>(), 3.0 * kPi + 1e-4);
  // t = 3 pi sqrt(U): (t / 3 pi)^2 is uniform with mean 1/2 and variance 1/12.
  const torch::Tensor u = (t / (3.0 * kPi)).square();
  EXPECT_NEAR(u.mean().item<double>(), 0.5, 5.0 * std::sqrt(1.0 / 12.0 / n));
  // Both arms equally likely.
  const double on_first = ((p - arm).norm(2, 1) < 1e-4).sum().item<double>();
  EXPECT_NEAR(on_first, n / 2.0, binomial_tolerance(n, 0.5) + 1.0);
}

TEST(Toy2d, PinwheelArmsBendWithRadiusAndShareMassEqually) {
  const int64_t n = 50000;
  const torch::Tensor p = draw(toy("pinwheel", "scale: 1\n"), n).to(torch::kFloat64);
  const torch::Tensor r = p.norm(2, 1);
  const torch::Tensor theta = torch::atan2(p.select(1, 1), p.select(1, 0));
  // Undo the radius-dependent rotation; what is left is the arm's angle 2 pi k / 5 plus a small spread.
  const double spacing = 2.0 * kPi / 5.0;
  const torch::Tensor unbent = theta - 0.25 * torch::exp(r);
  const torch::Tensor arm_index = torch::remainder(torch::round(unbent / spacing), 5.0).to(torch::kInt64);
  const torch::Tensor residual = torch::remainder(unbent + spacing / 2.0, spacing) - spacing / 2.0;
  // ~90% within 0.25 rad for this set (about 40% for an angle unrelated to the radius).
  EXPECT_GT((residual.abs() < 0.25).to(torch::kFloat64).mean().item<double>(), 0.88);
  const torch::Tensor counts = torch::bincount(arm_index, {}, 5).to(torch::kFloat64);
  for (int64_t k = 0; k < 5; ++k) EXPECT_NEAR(counts[k].item<double>(), n / 5.0, binomial_tolerance(n, 0.2) + 0.01 * n);
  EXPECT_NEAR(r.mean().item<double>(), 1.0, 0.02);  // E|(a, b)| ~ E[a] = 1 for b << a
}

TEST(Toy2d, NoiselessSwissRollFollowsItsCurve) {
  const int64_t n = 40000;
  const torch::Tensor p = draw(toy("swiss_roll", "noise: 0\n"), n).to(torch::kFloat64) / 0.25;
  const torch::Tensor t = p.norm(2, 1);
  EXPECT_GE(t.min().item<double>(), 1.5 * kPi - 1e-4);
  EXPECT_LE(t.max().item<double>(), 4.5 * kPi + 1e-4);
  const torch::Tensor curve = torch::stack({t * torch::cos(t), t * torch::sin(t)}, 1);
  EXPECT_LT((p - curve).norm(2, 1).max().item<double>(), 1e-3);
  // t is uniform on [1.5 pi, 4.5 pi]: mean 3 pi, std 3 pi / sqrt(12).
  EXPECT_NEAR(t.mean().item<double>(), 3.0 * kPi, 5.0 * 3.0 * kPi / std::sqrt(12.0 * n));
}

TEST(Toy2d, PerSetDefaultsAreWrittenIntoTheConfig) {
  data_test::ensure_datasets_registered();
  config::Node node = config::Node::parse(toy("checkerboard"));
  dataset_registry().create(node);
  const std::string yaml = node.to_yaml();
  EXPECT_NE(yaml.find("scale: 1"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("noise: 0"), std::string::npos) << yaml;
}

TEST(Toy2d, ConfigErrorsNameTheKeyAndSuggestTheName) {
  const std::string typo = thrown_message<ConfigError>([] { make_dataset(toy("moosn")); });
  EXPECT_NE(typo.find("name"), std::string::npos) << typo;
  EXPECT_NE(typo.find("did you mean 'moons'"), std::string::npos) << typo;
  const std::string scale = thrown_message<ConfigError>([] { make_dataset(toy("moons", "scale: -1\n")); });
  EXPECT_NE(scale.find("scale: expected a number > 0"), std::string::npos) << scale;
  const std::string noise = thrown_message<ConfigError>([] { make_dataset(toy("moons", "noise: -0.1\n")); });
  EXPECT_NE(noise.find("noise"), std::string::npos) << noise;
  const std::string unknown = thrown_message<ConfigError>([] { make_dataset(toy("moons", "noize: 0.1\n")); });
  EXPECT_NE(unknown.find("noize: unknown key"), std::string::npos) << unknown;
}

TEST(Toy2d, ListDocumentsEveryOption) {
  data_test::ensure_datasets_registered();
  const auto options = dataset_registry().options("toy2d");
  std::vector<std::string> keys;
  for (const auto& o : options) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "scale", "noise"}));
  EXPECT_NE(options[0].doc.find("checkerboard"), std::string::npos);
}


// Each labelled set names the part a point was drawn from; with the noise off the part can be read
// back from the point's coordinates, which is what these checks do.
TEST(Toy2d, LabelsNameTheNaturalParts) {
  const int64_t n = 4000;
  const auto batch = [&](const std::string& name) {
    auto dataset = make_dataset(toy(name, "noise: 0\nscale: 1\n"));
    at::Generator gen = make_generator(11);
    const Batch b = dataset->sample(n, gen);
    EXPECT_EQ(b.label.scalar_type(), torch::kLong) << name;
    EXPECT_EQ(b.label.sizes(), torch::IntArrayRef({n})) << name;
    EXPECT_EQ(b.label.min().item<int64_t>(), 0) << name;
    EXPECT_EQ(b.label.max().item<int64_t>(), dataset->num_classes() - 1) << name;
    return b;
  };
  {  // eight_gaussians: the centre at angle k pi / 4
    const Batch b = batch("eight_gaussians");
    const torch::Tensor angle = b.label.to(torch::kFloat32) * (kPi / 4.0);
    const torch::Tensor centre = 2.0 * torch::stack({torch::cos(angle), torch::sin(angle)}, 1);
    EXPECT_LT((b.x - centre).abs().max().item<double>(), 1e-5);
  }
  {  // moons: 0 is the upper half-circle around (-0.5, -0.25), 1 the lower one around (0.5, 0.25)
    const Batch b = batch("moons");
    const torch::Tensor centre = torch::where(b.label.unsqueeze(1) == 0, torch::tensor({-0.5f, -0.25f}),
                                              torch::tensor({0.5f, 0.25f}));
    EXPECT_LT(((b.x - centre).norm(2, 1) - 1.0).abs().max().item<double>(), 1e-5);
  }
  {  // circles: 0 the outer circle (r = 1), 1 the inner one (r = 0.5)
    const Batch b = batch("circles");
    const torch::Tensor radius = 1.0 - 0.5 * b.label.to(torch::kFloat32);
    EXPECT_LT((b.x.norm(2, 1) - radius).abs().max().item<double>(), 1e-5);
  }
  {  // checkerboard: 2 c + l, column c = floor(x / 2) + 2, l = 1 for the lower square of the column
    const Batch b = batch("checkerboard");
    const torch::Tensor column = torch::floor(b.x.select(1, 0) / 2.0) + 2.0;
    // Each column holds one square in y < 0 and one in y >= 0.
    const torch::Tensor lower = b.x.select(1, 1) < 0;
    EXPECT_TRUE((b.label == (2.0 * column + lower.to(torch::kFloat32)).to(torch::kLong)).all().item<bool>());
    EXPECT_EQ(std::get<0>(at::_unique(b.label)).numel(), 8);
  }
  {  // two_spirals: the sign of the arm; pinwheel: the arm's angle 2 pi k / 5 (plus a bend <= 0.25 e^a)
    const Batch spirals = batch("two_spirals");
    EXPECT_EQ(std::get<0>(at::_unique(spirals.label)).numel(), 2);
    const Batch pinwheel = batch("pinwheel");
    EXPECT_EQ(std::get<0>(at::_unique(pinwheel.label)).numel(), 5);
  }
  auto roll = make_dataset(toy("swiss_roll"));
  at::Generator gen = make_generator(1);
  EXPECT_EQ(roll->num_classes(), 0);
  EXPECT_FALSE(roll->sample(10, gen).label.defined());
}

// Labels come from the draws that make the points, so a labelled set draws the same points as before.
TEST(Toy2d, LabelsLeaveThePointStreamUnchanged) {
  auto dataset = make_dataset(toy("eight_gaussians"));
  at::Generator gen = make_generator(3);
  const torch::Tensor x = dataset->sample(64, gen).x;
  at::Generator manual = make_generator(3);
  const torch::Tensor k = torch::randint(0, 8, {64}, manual, torch::kFloat32) * (kPi / 4.0);
  const torch::Tensor expected =
      2.0 * torch::stack({torch::cos(k), torch::sin(k)}, 1) + 0.2 * torch::randn({64, 2}, manual, torch::kFloat32);
  EXPECT_TRUE(torch::equal(x, expected));
}

}  // namespace
}  // namespace flowlab::data
