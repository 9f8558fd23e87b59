// Exact divergence: log-likelihoods of flows with closed-form densities.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>

#include "flowlab/data/dataset.h"
#include "flowlab/solvers/likelihood.h"
#include "likelihood/closed_form_flows.h"

namespace flowlab::solvers {
namespace {

using closed_form::GaussianInterpolant;
using closed_form::likelihood_options;
using closed_form::max_abs_diff;

using closed_form::generator_3d;

TEST(ExactLikelihood, LinearFieldMatchesPushedForwardGaussian) {
  const torch::Tensor a = generator_3d();
  at::Generator gen = data::make_generator(1);
  const torch::Tensor x = torch::randn({16, 3}, gen, torch::kDouble) * 1.5;
  const LogLikelihood result =
      log_likelihood(closed_form::linear_field(a), standard_normal_log_prob, x, likelihood_options("exact"), gen);

  EXPECT_LT(max_abs_diff(result.log_prob, closed_form::linear_log_prob(a, x)), 2e-4);
  EXPECT_LT(max_abs_diff(result.source_point, closed_form::linear_source_point(a, x)), 1e-4);
  // int_1^0 tr(A) (1/2 + t) dt = -tr(A), whatever the path.
  EXPECT_LT(max_abs_diff(result.divergence_integral, torch::full({16}, -a.trace().item<double>(), torch::kDouble)),
            1e-6);
  EXPECT_EQ(result.std_error.abs().max().item<double>(), 0.0);
  EXPECT_EQ(result.log_prob.scalar_type(), torch::kDouble);
  EXPECT_EQ(result.log_prob.sizes(), torch::IntArrayRef({16}));
  EXPECT_GT(result.nfe, 2);
}

TEST(ExactLikelihood, GaussianInterpolantGivesTargetGaussian) {
  const GaussianInterpolant flow{torch::tensor({1.0, -2.0, 0.5}, torch::kDouble), 0.5, 2.0};
  at::Generator gen = data::make_generator(2);
  const torch::Tensor x = flow.mu + 0.8 * torch::randn({12, 3}, gen, torch::kDouble);
  const LogLikelihood result =
      log_likelihood(flow.field(), standard_normal_log_prob, x, likelihood_options("exact"), gen);

  EXPECT_LT(max_abs_diff(result.log_prob, flow.log_prob(x, 1.0)), 2e-4);
  EXPECT_LT(max_abs_diff(result.source_point, (x - flow.mu) / flow.sigma1), 1e-4);
  // int_1^0 d C'/(2C) dt = -d log sigma1.
  EXPECT_NEAR(result.divergence_integral[0].item<double>(), -3.0 * std::log(flow.sigma1), 1e-4);
}

// Intermediate endpoints, both directions: rho_{t_start} from rho_{t_end}.
TEST(ExactLikelihood, ArbitraryEndpointsGiveIntermediateMarginals) {
  const GaussianInterpolant flow{torch::tensor({1.0, -2.0}, torch::kDouble), 1.5, 1.0};
  at::Generator gen = data::make_generator(3);
  const torch::Tensor x = torch::randn({8, 2}, gen, torch::kDouble);
  for (const auto& [t_start, t_end] : std::vector<std::pair<double, double>>{{0.8, 0.3}, {0.2, 0.9}}) {
    SCOPED_TRACE("t_start " + std::to_string(t_start) + " t_end " + std::to_string(t_end));
    LikelihoodOptions options = likelihood_options("exact");
    options.t_start = t_start;
    options.t_end = t_end;
    const double end = t_end;
    const LogLikelihood result = log_likelihood(
        flow.field(), [&](const torch::Tensor& y) { return flow.log_prob(y, end); }, x, options, gen);
    EXPECT_LT(max_abs_diff(result.log_prob, flow.log_prob(x, t_start)), 1e-4);
  }
}

TEST(ExactLikelihood, NonlinearMixtureFlowGivesMixtureDensity) {
  const auto flow = closed_form::three_component_mixture();
  at::Generator gen = data::make_generator(4);
  const torch::Tensor x = 2.0 * torch::randn({24, 2}, gen, torch::kDouble);
  // At the default tolerance the error is ~5e-4 here; tighten it to see the formula.
  const LogLikelihood result = log_likelihood(flow.field(), standard_normal_log_prob, x,
                                              likelihood_options("exact", 1, "rademacher", 1e-8), gen);
  EXPECT_LT(max_abs_diff(result.log_prob, flow.log_prob(x)), 1e-6);
}

// Rows turn at very different speeds, so dopri5 retires the near rows early and
// evaluates the field on subsets; each row must still get its own answer, and
// the same answer as when solved alone.
TEST(ExactLikelihood, RowsFinishingAtDifferentTimesKeepTheirOwnAnswers) {
  const torch::Tensor x = torch::tensor({{0.1, 0.0}, {2.0, -1.0}, {0.0, -0.3}, {1.2, 1.5}}, torch::kDouble);
  at::Generator gen = data::make_generator(5);
  const LikelihoodOptions options = likelihood_options("exact", 1, "rademacher", 1e-9);
  const LogLikelihood batch =
      log_likelihood(closed_form::radial_rotation_field(), standard_normal_log_prob, x, options, gen);
  EXPECT_LT(max_abs_diff(batch.source_point, closed_form::radial_rotation_source_point(x)), 1e-7);
  EXPECT_LT(max_abs_diff(batch.log_prob, standard_normal_log_prob(x)), 1e-7);
  for (int64_t i = 0; i < x.size(0); ++i) {
    const LogLikelihood alone = log_likelihood(closed_form::radial_rotation_field(), standard_normal_log_prob,
                                               x.narrow(0, i, 1), options, gen);
    EXPECT_NEAR(alone.log_prob[0].item<double>(), batch.log_prob[i].item<double>(), 1e-9) << "row " << i;
  }
}

// Images: the divergence runs over every non-batch dimension, with the
// flattening of the field and of the basis vectors agreeing.
TEST(ExactLikelihood, ImageShapedSamples) {
  at::Generator gen = data::make_generator(6);
  const torch::Tensor a = 0.3 * torch::randn({16, 16}, gen, torch::kDouble);
  const torch::Tensor x = torch::randn({5, 1, 4, 4}, gen, torch::kDouble);
  const LogLikelihood result =
      log_likelihood(closed_form::linear_field(a), standard_normal_log_prob, x, likelihood_options("exact"), gen);
  EXPECT_EQ(result.source_point.sizes(), x.sizes());
  EXPECT_EQ(result.log_prob.sizes(), torch::IntArrayRef({5}));
  EXPECT_LT(max_abs_diff(result.source_point, closed_form::linear_source_point(a, x)), 1e-4);
  EXPECT_LT(max_abs_diff(result.log_prob, closed_form::linear_log_prob(a, x)), 1e-3);
  EXPECT_NEAR(result.divergence_integral[0].item<double>(), -a.trace().item<double>(), 1e-6);
}

// A field that does not depend on x has divergence 0: X0 = x - c.
TEST(ExactLikelihood, ConstantFieldHasZeroDivergence) {
  const torch::Tensor c = torch::tensor({0.5, -1.0}, torch::kDouble);
  const Field shift = [c](const torch::Tensor& x, const torch::Tensor&) {
    return c.to(x.scalar_type()).expand_as(x).clone();
  };
  const torch::Tensor x = torch::tensor({{0.0, 0.0}, {1.0, 2.0}}, torch::kDouble);
  at::Generator gen = data::make_generator(7);
  for (const std::string divergence : {"exact", "hutchinson"}) {
    const LogLikelihood result =
        log_likelihood(shift, standard_normal_log_prob, x, likelihood_options(divergence, 2), gen);
    EXPECT_LT(max_abs_diff(result.log_prob, standard_normal_log_prob(x - c)), 1e-9) << divergence;
  }
}

// A float32 field sees float32 inputs; the integrals are still accumulated in float64.
TEST(ExactLikelihood, Float32Samples) {
  const torch::Tensor a = generator_3d();
  at::Generator gen = data::make_generator(8);
  const torch::Tensor x = torch::randn({6, 3}, gen, torch::kFloat);
  torch::ScalarType seen = torch::kDouble;
  const Field field = [&](const torch::Tensor& y, const torch::Tensor& t) {
    seen = y.scalar_type();
    EXPECT_EQ(t.scalar_type(), y.scalar_type());
    return closed_form::linear_field(a)(y, t);
  };
  const LogLikelihood result = log_likelihood(field, standard_normal_log_prob, x, likelihood_options("exact"), gen);
  EXPECT_EQ(seen, torch::kFloat);
  EXPECT_EQ(result.log_prob.scalar_type(), torch::kDouble);
  EXPECT_EQ(result.source_point.scalar_type(), torch::kFloat);
  EXPECT_LT(max_abs_diff(result.log_prob, closed_form::linear_log_prob(a, x)), 1e-3);
}

// The divergence columns take part in the error control: at x = 0 the state
// never moves (its error estimate is 0), so only the divergence integral
// int_0^1 d lambda(t) dt with a fast-oscillating lambda can limit the steps.
TEST(ExactLikelihood, DivergenceIntegralIsErrorControlled) {
  const Field breathing = [](const torch::Tensor& x, const torch::Tensor& t) {
    return closed_form::per_row(20.0 * torch::cos(20.0 * t), x) * x;
  };
  const torch::Tensor x = torch::zeros({3, 2}, torch::kDouble);
  at::Generator gen = data::make_generator(9);
  for (double tol : {1e-4, 1e-7}) {
    const LogLikelihood result =
        log_likelihood(breathing, standard_normal_log_prob, x, likelihood_options("exact", 1, "rademacher", tol), gen);
    // X1 = exp(sin 20) X0, so log rho1(0) = log N(0; 0, I) - d sin(20).
    const double expected = -closed_form::kLogTwoPi - 2.0 * std::sin(20.0);
    EXPECT_LT(max_abs_diff(result.log_prob, torch::full({3}, expected, torch::kDouble)), 20 * tol) << "tol " << tol;
  }
}

}  // namespace
}  // namespace flowlab::solvers
