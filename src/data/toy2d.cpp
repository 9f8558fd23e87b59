#include "flowlab/data/toy2d.h"

#include <torch/torch.h>

#include <cmath>

namespace flowlab::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Toy2dDefaults {
  double scale;
  double noise;
};

Toy2dDefaults defaults_for(Toy2dKind kind) {
  switch (kind) {
    case Toy2dKind::kMoons: return {2.0, 0.1};
    case Toy2dKind::kCircles: return {3.0, 0.1};
    case Toy2dKind::kEightGaussians: return {1.0, 0.2};
    case Toy2dKind::kCheckerboard: return {1.0, 0.0};
    case Toy2dKind::kTwoSpirals: return {1.0 / 3.0, 0.1};
    case Toy2dKind::kPinwheel: return {2.0, 0.0};
    case Toy2dKind::kSwissRoll: return {0.25, 0.1};
  }
  return {1.0, 0.0};
}

torch::TensorOptions f32() { return torch::TensorOptions().dtype(torch::kFloat32); }

torch::Tensor uniform(int64_t n, at::Generator& gen) { return torch::rand({n}, gen, f32()); }
torch::Tensor normal(int64_t n, at::Generator& gen) { return torch::randn({n}, gen, f32()); }
// 0 or 1 with probability 1/2 each, as float.
torch::Tensor coin(int64_t n, at::Generator& gen) { return torch::randint(0, 2, {n}, gen, f32()); }

torch::Tensor as_labels(const torch::Tensor& part) { return part.to(torch::kLong); }

// The clean sets in their own units, with the part each point was drawn from as its label
// (from the same draws, so the point stream is the same as without labels); the caller
// applies scale and noise.
Batch moons(int64_t n, at::Generator& gen) {
  const torch::Tensor lower = coin(n, gen);
  const torch::Tensor theta = uniform(n, gen) * kPi;
  const torch::Tensor upper_x = torch::cos(theta), upper_y = torch::sin(theta);
  // The lower moon is the upper one rotated by pi about (0.5, 0.25).
  const torch::Tensor x = torch::where(lower > 0, 1.0 - upper_x, upper_x) - 0.5;
  const torch::Tensor y = torch::where(lower > 0, 0.5 - upper_y, upper_y) - 0.25;
  return {torch::stack({x, y}, 1), as_labels(lower)};  // 0: upper moon, 1: lower moon
}

Batch circles(int64_t n, at::Generator& gen) {
  const torch::Tensor inner = coin(n, gen);
  const torch::Tensor radius = 1.0 - 0.5 * inner;
  const torch::Tensor phi = uniform(n, gen) * (2.0 * kPi);
  return {torch::stack({radius * torch::cos(phi), radius * torch::sin(phi)}, 1), as_labels(inner)};  // 1: inner
}

Batch eight_gaussians(int64_t n, at::Generator& gen) {
  const torch::Tensor k = torch::randint(0, 8, {n}, gen, f32());
  const torch::Tensor angle = k * (kPi / 4.0);
  return {2.0 * torch::stack({torch::cos(angle), torch::sin(angle)}, 1), as_labels(k)};  // centre at angle k pi/4
}

Batch checkerboard(int64_t n, at::Generator& gen) {
  const torch::Tensor u = uniform(n, gen) * 4.0 - 2.0;
  const torch::Tensor lower = coin(n, gen);
  const torch::Tensor v = uniform(n, gen) - 2.0 * lower;
  // remainder() takes the divisor's sign, so floor(u) mod 2 is 0 or 1 for negative u too.
  const torch::Tensor column = torch::floor(u);
  const torch::Tensor shift = torch::remainder(column, 2.0);
  // Square 2 * column' + lower with column' = floor(u) + 2 in 0..3, counted from the left.
  return {2.0 * torch::stack({u, v + shift}, 1), as_labels(2.0 * (column + 2.0) + lower)};
}

Batch two_spirals(int64_t n, at::Generator& gen) {
  const torch::Tensor t = torch::sqrt(uniform(n, gen)) * (3.0 * kPi);
  const torch::Tensor flipped = coin(n, gen);
  const torch::Tensor sign = 1.0 - 2.0 * flipped;
  const torch::Tensor arm = torch::stack({-t * torch::cos(t), t * torch::sin(t)}, 1);
  return {arm * sign.unsqueeze(1), as_labels(flipped)};  // 1: the arm through -(-t cos t, t sin t)
}

Batch pinwheel(int64_t n, at::Generator& gen) {
  constexpr int64_t kArms = 5;
  const torch::Tensor arm = torch::randint(0, kArms, {n}, gen, f32());
  const torch::Tensor radial = 1.0 + 0.3 * normal(n, gen);
  const torch::Tensor tangential = 0.1 * normal(n, gen);
  // Farther points are rotated more, which bends each arm.
  const torch::Tensor phi = arm * (2.0 * kPi / kArms) + 0.25 * torch::exp(radial);
  const torch::Tensor c = torch::cos(phi), s = torch::sin(phi);
  return {torch::stack({c * radial - s * tangential, s * radial + c * tangential}, 1), as_labels(arm)};
}

Batch swiss_roll(int64_t n, at::Generator& gen) {
  const torch::Tensor t = 1.5 * kPi * (1.0 + 2.0 * uniform(n, gen));
  return {torch::stack({t * torch::cos(t), t * torch::sin(t)}, 1), torch::Tensor()};  // one part: unlabelled
}

}  // namespace

const std::vector<std::string>& toy2d_names() {
  static const std::vector<std::string> names = {"moons",        "circles",  "eight_gaussians", "checkerboard",
                                                 "two_spirals", "pinwheel", "swiss_roll"};
  return names;
}

Toy2dOptions Toy2dOptions::read(config::Node& node) {
  Toy2dOptions o;
  const std::string name = node.get_choice("name", "moons", toy2d_names(), "which toy set");
  for (std::size_t i = 0; i < toy2d_names().size(); ++i) {
    if (toy2d_names()[i] == name) o.kind = static_cast<Toy2dKind>(i);
  }
  const Toy2dDefaults d = defaults_for(o.kind);
  o.scale = node.get<double>("scale", d.scale,
                             "multiplies the clean coordinates; default per set (moons 2, circles 3, "
                             "eight_gaussians 1, checkerboard 1, two_spirals 1/3, pinwheel 2, swiss_roll 0.25)");
  node.expect(std::isfinite(o.scale) && o.scale > 0, "scale", "a number > 0");
  o.noise = node.get<double>("noise", d.noise,
                             "std of Gaussian noise added after scaling; default per set (moons 0.1, circles 0.1, "
                             "eight_gaussians 0.2, checkerboard 0, two_spirals 0.1, pinwheel 0, swiss_roll 0.1)");
  node.expect(std::isfinite(o.noise) && o.noise >= 0, "noise", "a number >= 0");
  return o;
}

Toy2d::Toy2d(const Toy2dOptions& options) : options_(options) {
  TORCH_CHECK(options.scale > 0 && options.noise >= 0, "toy2d: need scale > 0 and noise >= 0, got scale ",
              options.scale, ", noise ", options.noise);
}

int64_t toy2d_num_classes(Toy2dKind kind) {
  switch (kind) {
    case Toy2dKind::kMoons: return 2;
    case Toy2dKind::kCircles: return 2;
    case Toy2dKind::kEightGaussians: return 8;
    case Toy2dKind::kCheckerboard: return 8;
    case Toy2dKind::kTwoSpirals: return 2;
    case Toy2dKind::kPinwheel: return 5;
    case Toy2dKind::kSwissRoll: return 0;
  }
  return 0;
}

Batch Toy2d::sample(int64_t n, at::Generator& gen) const {
  TORCH_CHECK(n >= 0, "toy2d: cannot draw ", n, " samples");
  Batch clean;
  switch (options_.kind) {
    case Toy2dKind::kMoons: clean = moons(n, gen); break;
    case Toy2dKind::kCircles: clean = circles(n, gen); break;
    case Toy2dKind::kEightGaussians: clean = eight_gaussians(n, gen); break;
    case Toy2dKind::kCheckerboard: clean = checkerboard(n, gen); break;
    case Toy2dKind::kTwoSpirals: clean = two_spirals(n, gen); break;
    case Toy2dKind::kPinwheel: clean = pinwheel(n, gen); break;
    case Toy2dKind::kSwissRoll: clean = swiss_roll(n, gen); break;
  }
  torch::Tensor x = clean.x * options_.scale;
  // No draw for noise 0, so a noiseless set does not consume the extra stream.
  if (options_.noise > 0) x = x + options_.noise * torch::randn({n, 2}, gen, f32());
  return Batch{x.contiguous(), clean.label};
}

}  // namespace flowlab::data
