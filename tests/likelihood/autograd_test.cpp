// log_likelihood and the caller's autograd state: it needs gradients of the
// field with respect to x whatever the caller's grad mode, and leaves no graph,
// no accumulated gradients and no changed grad mode behind.
#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <gtest/gtest.h>

#include "flowlab/data/dataset.h"
#include "flowlab/solvers/likelihood.h"
#include "likelihood/closed_form_flows.h"

namespace flowlab::solvers {
namespace {

using closed_form::likelihood_options;
using closed_form::max_abs_diff;

// b = (1/2 + t) W x with W a trainable parameter.
struct ParameterField {
  torch::Tensor weight = torch::tensor({{0.3, -0.8}, {0.5, -0.4}}, torch::kDouble).requires_grad_(true);
  Field field() const { return closed_form::linear_field(weight); }
  torch::Tensor expected(const torch::Tensor& x) const {
    return closed_form::linear_log_prob(weight.detach(), x.detach());
  }
};

void expect_no_graph(const LogLikelihood& result) {
  for (const torch::Tensor& t : {result.log_prob, result.std_error, result.divergence_integral, result.source_point}) {
    EXPECT_FALSE(t.requires_grad());
    EXPECT_FALSE(t.grad_fn());
  }
}

TEST(LikelihoodAutograd, LeavesNoGraphAndNoGradients) {
  const ParameterField flow;
  at::Generator gen = data::make_generator(41);
  const torch::Tensor x = torch::randn({4, 2}, gen, torch::kDouble).requires_grad_(true);
  for (const std::string divergence : {"exact", "hutchinson"}) {
    SCOPED_TRACE(divergence);
    const LogLikelihood result =
        log_likelihood(flow.field(), standard_normal_log_prob, x, likelihood_options(divergence, 2), gen);
    expect_no_graph(result);
    EXPECT_TRUE(torch::GradMode::is_enabled());
    EXPECT_FALSE(flow.weight.grad().defined()) << "vector-Jacobian products must not accumulate into .grad";
    EXPECT_FALSE(x.grad().defined());
  }
}

TEST(LikelihoodAutograd, WorksUnderNoGradGuard) {
  const ParameterField flow;
  at::Generator gen = data::make_generator(42);
  const torch::Tensor x = torch::randn({4, 2}, gen, torch::kDouble);
  for (const std::string divergence : {"exact", "hutchinson"}) {
    SCOPED_TRACE(divergence);
    gen = data::make_generator(43);
    const LogLikelihood with_grad =
        log_likelihood(flow.field(), standard_normal_log_prob, x, likelihood_options(divergence, 2), gen);
    gen = data::make_generator(43);
    LogLikelihood without_grad;
    {
      torch::NoGradGuard no_grad;
      without_grad = log_likelihood(flow.field(), standard_normal_log_prob, x, likelihood_options(divergence, 2), gen);
      EXPECT_FALSE(torch::GradMode::is_enabled()) << "the caller's grad mode must be restored";
    }
    expect_no_graph(without_grad);
    EXPECT_TRUE(torch::equal(with_grad.log_prob, without_grad.log_prob));
    if (divergence == "exact") {
      EXPECT_LT(max_abs_diff(without_grad.log_prob, flow.expected(x)), 2e-4);
    }
  }
}

TEST(LikelihoodAutograd, WorksInInferenceMode) {
  const ParameterField flow;
  const torch::Tensor x = torch::tensor({{0.5, -1.0}, {1.5, 0.2}}, torch::kDouble);
  at::Generator gen = data::make_generator(44);
  LogLikelihood result;
  {
    c10::InferenceMode inference;
    result = log_likelihood(flow.field(), standard_normal_log_prob, x.clone(), likelihood_options("exact"), gen);
    EXPECT_TRUE(c10::InferenceMode::is_enabled());
  }
  EXPECT_LT(max_abs_diff(result.log_prob, flow.expected(x)), 2e-4);
}

// The source density is evaluated without a graph on a point that does not require grad.
TEST(LikelihoodAutograd, SourceDensitySeesAPlainTensor) {
  const ParameterField flow;
  const torch::Tensor x = torch::tensor({{0.5, -1.0}}, torch::kDouble).requires_grad_(true);
  at::Generator gen = data::make_generator(45);
  bool called = false;
  const LogDensity source = [&](const torch::Tensor& y) {
    called = true;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_FALSE(torch::GradMode::is_enabled());
    return standard_normal_log_prob(y);
  };
  log_likelihood(flow.field(), source, x, likelihood_options("exact"), gen);
  EXPECT_TRUE(called);
}

TEST(LikelihoodAutograd, ShapeMistakesAreReported) {
  const torch::Tensor x = torch::zeros({3, 2}, torch::kDouble);
  at::Generator gen = data::make_generator(46);
  const Field wrong_shape = [](const torch::Tensor& y, const torch::Tensor&) { return y.sum(1); };
  EXPECT_THROW(log_likelihood(wrong_shape, standard_normal_log_prob, x, likelihood_options("exact"), gen), c10::Error);
  const Field zero = [](const torch::Tensor& y, const torch::Tensor&) { return torch::zeros_like(y); };
  const LogDensity scalar = [](const torch::Tensor& y) { return standard_normal_log_prob(y).sum(); };
  EXPECT_THROW(log_likelihood(zero, scalar, x, likelihood_options("exact"), gen), c10::Error);
  EXPECT_THROW(log_likelihood(zero, standard_normal_log_prob, torch::zeros({3, 2}, torch::kLong),
                              likelihood_options("exact"), gen),
               c10::Error);
}

}  // namespace
}  // namespace flowlab::solvers
