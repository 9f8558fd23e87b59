#pragma once
// What a network predicts. The path converts any of these into velocity,
// score and data estimates; nothing else converts by hand.
#include <string>
#include <vector>

namespace flowlab::paths {

enum class Prediction {
  kVelocity,  ///< b(x, t) = E[d/dt x_t | x_t = x]
  kNoise,     ///< E[x0 | x_t = x] (Gaussian source)
  kData,      ///< E[x1 | x_t = x]
  kDenoiser,  ///< eta = E[z | x_t = x]
  kScore,     ///< grad_x log rho_t(x)
  kInterpolantVelocity,  ///< v = E[d/dt (alpha x0 + beta x1) | x_t = x]: b without the gamma z part
};

/// "velocity", "noise", "data", "denoiser", "score", "interpolant_velocity".
const std::vector<std::string>& prediction_names();
Prediction parse_prediction(const std::string& name);
std::string to_string(Prediction p);
/// What a prediction means, for `flowlab list` and error messages.
const std::string& describe(Prediction p);

}  // namespace flowlab::paths
