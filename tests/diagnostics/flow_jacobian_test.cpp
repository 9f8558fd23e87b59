// The flow Jacobian: exp(A t) for a linear field, and the dimension of a degenerate Gaussian
// target (a flow onto a line in R^3 has one singular value of order one).
#include "flowlab/diagnostics/flow_jacobian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <torch/torch.h>

#include "flowlab/data/gaussian_mixture.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "paths/make_path.h"

namespace flowlab::diagnostics {
namespace {

TEST(FlowJacobian, LinearFieldGivesTheMatrixExponential) {
  torch::manual_seed(0);
  const auto a = torch::randn({3, 3}, torch::kFloat64) * 0.7;
  const solvers::Field field = [&](const torch::Tensor& x, const torch::Tensor&) { return torch::matmul(x, a.t()); };
  const auto x0 = torch::randn({4, 3}, torch::kFloat64);
  const FlowJacobian f = flow_jacobian(field, x0, 1.0, 50);
  const auto expected = torch::matrix_exp(a);
  EXPECT_LT((f.jacobian - expected.unsqueeze(0)).abs().max().item<double>(), 1e-7);
  EXPECT_LT((f.x - torch::matmul(x0, expected.t())).abs().max().item<double>(), 1e-7);
}

// N(0, I) to N(0, diag(1, eps^2, eps^2)) on the Cond-OT path: the marginal variance per coordinate
// is C_t = (1 - t)^2 + t^2 sigma^2 and the probability-flow ODE scales by sqrt(C_t), so
// Y(t) = diag(sqrt(C_t)) and k = 1.
TEST(FlowJacobian, DegenerateGaussianTargetHasItsDimension) {
  const double eps = 1e-3;
  const data::GaussianMixture line(torch::ones({1}, torch::kFloat64), torch::zeros({1, 3}, torch::kFloat64),
                                   torch::diag(torch::tensor({1.0, eps * eps, eps * eps}, torch::kFloat64)).unsqueeze(0));
  const auto path = paths::make_path("type: cond_ot\n");
  const paths::GaussianMixtureFields fields(*path, line);
  torch::manual_seed(1);
  const auto x0 = torch::randn({6, 3}, torch::kFloat64);
  // Near t = 1 the normal rate d log sqrt(C_t)/dt ~ -1/(1 - t) is stiff: stop at 0.99, where the
  // singular values already differ a hundredfold.
  const double t_end = 0.99;
  const FlowJacobian f = flow_jacobian(fields.velocity_field(), x0, t_end, 400);
  const auto scale = [t_end](double sigma) {
    return std::sqrt((1 - t_end) * (1 - t_end) + t_end * t_end * sigma * sigma);
  };
  const double tangent = scale(1.0), normal = scale(eps);
  EXPECT_TRUE((f.dimension == 1).all().item<bool>()) << f.dimension;
  EXPECT_LT((f.singular_values.select(1, 0) / tangent - 1).abs().max().item<double>(), 1e-6);
  EXPECT_LT((f.singular_values.select(1, 1) / normal - 1).abs().max().item<double>(), 1e-3);
}

}  // namespace
}  // namespace flowlab::diagnostics
