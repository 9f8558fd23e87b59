#pragma once
// ODEs with closed-form solutions, shared by the solver tests.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>

#include "flowlab/solvers/solver.h"

namespace flowlab::solvers::analytic {

/// Checks the field contract: t is [B] in x's dtype.
inline void expect_time_contract(const torch::Tensor& x, const torch::Tensor& t) {
  EXPECT_EQ(t.dim(), 1);
  EXPECT_EQ(t.size(0), x.size(0));
  EXPECT_EQ(t.scalar_type(), x.scalar_type());
}

/// dx/dt = cos(t) x, so x(t) = x(t0) exp(sin t - sin t0). Non-autonomous, so
/// the stage times matter.
inline Field cos_growth_field() {
  return [](const torch::Tensor& x, const torch::Tensor& t) {
    expect_time_contract(x, t);
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[0] = x.size(0);
    return torch::cos(t).view(shape) * x;
  };
}

inline torch::Tensor cos_growth_solution(const torch::Tensor& x0, double t0, double t1) {
  return x0 * std::exp(std::sin(t1) - std::sin(t0));
}

/// State [B, 3] = (u, v, omega): (u, v) rotates at angular velocity omega,
/// which is part of the state so each row carries its own speed.
inline Field rotation_field() {
  return [](const torch::Tensor& x, const torch::Tensor& t) {
    expect_time_contract(x, t);
    const torch::Tensor u = x.select(1, 0), v = x.select(1, 1), omega = x.select(1, 2);
    return torch::stack({-omega * v, omega * u, torch::zeros_like(omega)}, 1);
  };
}

inline torch::Tensor rotation_solution(const torch::Tensor& x0, double t0, double t1) {
  const torch::Tensor u = x0.select(1, 0), v = x0.select(1, 1), omega = x0.select(1, 2);
  const torch::Tensor angle = omega * (t1 - t0);
  return torch::stack({u * torch::cos(angle) - v * torch::sin(angle),
                       u * torch::sin(angle) + v * torch::cos(angle), omega},
                      1);
}

/// Largest absolute difference, as a double.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace flowlab::solvers::analytic
