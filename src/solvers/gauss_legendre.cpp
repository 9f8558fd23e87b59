#include "flowlab/solvers/gauss_legendre.h"

#include <cmath>
#include <stdexcept>

namespace flowlab::solvers {

std::pair<std::vector<double>, std::vector<double>> gauss_legendre(int n) {
  if (n < 1) throw std::invalid_argument("gauss_legendre: n must be >= 1");
  std::vector<double> nodes(n), weights(n);
  const double pi = std::acos(-1.0);
  for (int i = 0; i < n; ++i) {
    // Chebyshev-like first guess of the i-th root from the right; Newton converges quadratically from it.
    double x = std::cos(pi * (i + 0.75) / (n + 0.5));
    double derivative = 1.0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p0 = 1.0, p1 = x;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1, p1 = p2;
      }
      derivative = n == 1 ? 1.0 : n * (x * p1 - p0) / (x * x - 1.0);
      const double step = p1 / derivative;
      x -= step;
      if (std::abs(step) < 1e-15) break;
    }
    nodes[n - 1 - i] = x;
    weights[n - 1 - i] = 2.0 / ((1.0 - x * x) * derivative * derivative);
  }
  return {nodes, weights};
}

}  // namespace flowlab::solvers
