#pragma once
// Toy 2-D distributions, registered as "toy2d".
//
// Every set is drawn as  x = scale * clean + noise * eps,  eps ~ N(0, I):
// `scale` is a change of units of the clean set and `noise` is an isotropic
// Gaussian blur in the final coordinates. The per-set defaults below keep the
// data roughly inside [-4, 4]^2. U[a, b) is uniform, B(p) a Bernoulli draw.
//
//   moons            (default scale 2, noise 0.1)
//                    s ~ B(1/2), theta ~ U[0, pi);
//                    s = 0: (cos theta, sin theta) - (0.5, 0.25)
//                    s = 1: (1 - cos theta, 0.5 - sin theta) - (0.5, 0.25)
//                    i.e. the unit half-circles around (-0.5, -0.25) (upper)
//                    and (0.5, 0.25) (lower), centred on the origin.
//   circles          (default scale 3, noise 0.1)
//                    r = 1 or 0.5 with probability 1/2 each, phi ~ U[0, 2 pi);
//                    r * (cos phi, sin phi).
//   eight_gaussians  (default scale 1, noise 0.2)
//                    k uniform in {0..7}; 2 * (cos(k pi/4), sin(k pi/4)).
//   checkerboard     (default scale 1, noise 0) — as in the stochastic
//                    interpolants paper: u ~ U[-2, 2), v = U[0, 1) - 2 B(1/2),
//                    2 * (u, v + (floor(u) mod 2)): uniform on 8 squares of
//                    side 2 in [-4, 4]^2 (total area 32).
//   two_spirals      (default scale 1/3, noise 0.1)
//                    t = 3 pi sqrt(U[0, 1)), sign = +-1 with probability 1/2;
//                    sign * (-t cos t, t sin t): two interleaved arms.
//   pinwheel         (default scale 2, noise 0)
//                    k uniform in {0..4}, a = 1 + 0.3 N(0,1), b = 0.1 N(0,1),
//                    phi = 2 pi k / 5 + 0.25 exp(a); rotate (a, b) by phi.
//   swiss_roll       (default scale 0.25, noise 0.1)
//                    t = 1.5 pi (1 + 2 U[0, 1)); (t cos t, t sin t).
//
// Labels: each point carries the part it was drawn from (before the noise): moons 0 upper,
// 1 lower; circles 0 outer, 1 inner; eight_gaussians k (centre at angle k pi/4); checkerboard
// 2 c + l for column c = floor(u) + 2 (left to right) and l = 1 for the lower square of the
// column; two_spirals 0 or 1 (the sign); pinwheel the arm k. swiss_roll has one part and
// no labels.
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"

namespace flowlab::data {

enum class Toy2dKind { kMoons, kCircles, kEightGaussians, kCheckerboard, kTwoSpirals, kPinwheel, kSwissRoll };

/// Registry names of the toy sets, in Toy2dKind order.
const std::vector<std::string>& toy2d_names();

/// Parts a set is labelled by (0: unlabelled).
int64_t toy2d_num_classes(Toy2dKind kind);

struct Toy2dOptions {
  Toy2dKind kind = Toy2dKind::kMoons;
  double noise = 0.1;
  double scale = 2.0;
  static Toy2dOptions read(config::Node& node);
};

class Toy2d : public Dataset {
 public:
  explicit Toy2d(const Toy2dOptions& options);
  std::vector<int64_t> sample_shape() const override { return {2}; }
  Batch sample(int64_t n, at::Generator& gen) const override;
  int64_t num_classes() const override { return toy2d_num_classes(options_.kind); }
  const Toy2dOptions& options() const { return options_; }

 private:
  Toy2dOptions options_;
};

}  // namespace flowlab::data
