#pragma once
// Gauss-Legendre quadrature: n nodes and weights on [-1, 1], exact for polynomials of degree 2n - 1.
#include <utility>
#include <vector>

namespace flowlab::solvers {

/// Nodes (increasing) and weights on [-1, 1], by Newton's method on the Legendre polynomial P_n.
std::pair<std::vector<double>, std::vector<double>> gauss_legendre(int n);

}  // namespace flowlab::solvers
