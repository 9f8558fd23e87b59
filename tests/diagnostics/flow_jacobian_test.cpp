// The flow Jacobian: exp(A t) for a linear field, and the dimension of a degenerate Gaussian
// target (a flow onto a line in R^3 has one singular value of order one).
#include "flowlab/diagnostics/flow_jacobian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <torch/torch.h>

#include "flowlab/data/dataset.h"
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

TEST(FlowJacobian, FewDirectionsCarryTheJacobianTimesAnOrthonormalFrame) {
  torch::manual_seed(2);
  const int64_t d = 10, m = 4;
  const auto a = torch::randn({d, d}, torch::kFloat64) * 0.3;
  const solvers::Field field = [&](const torch::Tensor& x, const torch::Tensor&) { return torch::matmul(x, a.t()); };
  const auto x0 = torch::randn({3, d}, torch::kFloat64);
  auto gen = data::make_generator(7);
  const FlowJacobian f = flow_jacobian(field, x0, 1.0, 50, m, &gen);
  ASSERT_EQ(f.jacobian.sizes(), (std::vector<int64_t>{3, d, m}));
  ASSERT_EQ(f.singular_values.sizes(), (std::vector<int64_t>{3, m}));
  // Y P = exp(A) P: exp(-A) Y P has orthonormal columns, the same frame for every point.
  const auto frame = torch::matmul(torch::matrix_exp(-a).unsqueeze(0), f.jacobian);
  EXPECT_LT((torch::matmul(frame.transpose(1, 2), frame) - torch::eye(m, torch::kFloat64)).abs().max().item<double>(),
            1e-7);
  EXPECT_LT((frame - frame[0]).abs().max().item<double>(), 1e-12);
  EXPECT_THROW(flow_jacobian(field, x0, 1.0, 5, m), c10::Error);  // no generator
  EXPECT_THROW(flow_jacobian(field, x0, 1.0, 5, d + 1, &gen), c10::Error);
}

// The degenerate Gaussian again, a 3-D subspace of R^80, seen through 10 random directions.
TEST(FlowJacobian, FewDirectionsFindTheDimensionInHighDimension) {
  const int64_t d = 80, k = 3;
  const double eps = 1e-3;
  auto variances = torch::full({d}, eps * eps, torch::kFloat64);
  variances.slice(0, 0, k).fill_(1.0);
  const data::GaussianMixture flat(torch::ones({1}, torch::kFloat64), torch::zeros({1, d}, torch::kFloat64),
                                   torch::diag(variances).unsqueeze(0));
  const auto path = paths::make_path("type: cond_ot\n");
  const paths::GaussianMixtureFields fields(*path, flat);
  auto gen = data::make_generator(8);
  const auto x0 = torch::randn({5, d}, gen, torch::kFloat64);
  const FlowJacobian f = flow_jacobian(fields.velocity_field(), x0, 0.99, 100, 10, &gen);
  EXPECT_TRUE((f.dimension == k).all().item<bool>()) << f.dimension;
}

}  // namespace
}  // namespace flowlab::diagnostics
