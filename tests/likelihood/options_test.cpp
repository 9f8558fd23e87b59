// LikelihoodOptions from config sections, option checks of log_likelihood, and
// the unit helpers (standard normal log-density, bits per dimension).
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/data/dataset.h"
#include "flowlab/solvers/likelihood.h"
#include "likelihood/closed_form_flows.h"
#include "support/config_error.h"

namespace flowlab::solvers {
namespace {

std::string config_error(const std::string& text) {
  config::Node node = config::Node::parse(text, "likelihood.yaml");
  return testing::config_error_of([&] { LikelihoodOptions::read(node); });
}

TEST(LikelihoodOptions, Defaults) {
  config::Node node = config::Node::parse("{}");
  const LikelihoodOptions options = LikelihoodOptions::read(node);
  EXPECT_EQ(options.divergence, "exact");
  EXPECT_EQ(options.probes, 1);
  EXPECT_EQ(options.probe, "rademacher");
  EXPECT_EQ(options.solver, "dopri5");
  EXPECT_EQ(options.solver_options.atol, 1e-5);
  EXPECT_EQ(options.solver_options.rtol, 1e-5);
  EXPECT_EQ(options.t_start, 1.0);
  EXPECT_EQ(options.t_end, 0.0);
  EXPECT_NO_THROW(node.check_all_used());
}

TEST(LikelihoodOptions, ReadsEveryKey) {
  config::Node node = config::Node::parse(
      "divergence: hutchinson\nprobes: 8\nprobe: gaussian\nsolver: rk4\nsteps: 40\natol: 1.0e-6\n"
      "rtol: 2.0e-6\nmax_steps: 500\nt_start: 0.999\nt_end: 0.001\n");
  const LikelihoodOptions options = LikelihoodOptions::read(node);
  EXPECT_EQ(options.divergence, "hutchinson");
  EXPECT_EQ(options.probes, 8);
  EXPECT_EQ(options.probe, "gaussian");
  EXPECT_EQ(options.solver, "rk4");
  EXPECT_EQ(options.solver_options.steps, 40);
  EXPECT_EQ(options.solver_options.atol, 1e-6);
  EXPECT_EQ(options.solver_options.rtol, 2e-6);
  EXPECT_EQ(options.solver_options.max_steps, 500);
  EXPECT_EQ(options.t_start, 0.999);
  EXPECT_EQ(options.t_end, 0.001);
  EXPECT_NO_THROW(node.check_all_used());
}

TEST(LikelihoodOptions, ErrorsNameTheKey) {
  struct Case {
    std::string text, key, detail;
  };
  const std::vector<Case> cases = {
      {"divergence: hutchinsn\n", "divergence", "did you mean 'hutchinson'"},
      {"probes: 0\n", "probes", ">= 1"},
      {"probes: -3\n", "probes", ">= 1"},
      {"probe: uniform\n", "probe", "rademacher"},
      {"solver: dopri\n", "solver", "dopri5"},
      {"t_start: 0.5\nt_end: 0.5\n", "t_end", "other than t_start"},
      {"atol: -1\n", "atol", ">= 0"},
  };
  for (const Case& c : cases) {
    const std::string message = config_error(c.text);
    EXPECT_NE(message.find(c.key + ":"), std::string::npos) << message;
    EXPECT_NE(message.find(c.detail), std::string::npos) << message;
    EXPECT_NE(message.find("likelihood.yaml:"), std::string::npos) << message;
  }
}

TEST(LikelihoodOptions, UnknownKeyIsAnError) {
  config::Node node = config::Node::parse("divergence: exact\nprobs: 4\n");
  LikelihoodOptions::read(node);
  EXPECT_THROW(node.check_all_used(), ConfigError);
}

TEST(LikelihoodOptions, DescribesItsKeys) {
  config::Node node = config::Node::describe();
  LikelihoodOptions::read(node);
  std::vector<std::string> keys;
  for (const config::OptionDoc& option : node.recorded_options()) keys.push_back(option.key);
  for (const std::string key : {"divergence", "probes", "probe", "solver", "atol", "rtol", "t_start", "t_end"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

// Options built in code are checked by log_likelihood itself.
TEST(LikelihoodOptions, InvalidOptionsInCodeThrow) {
  const torch::Tensor x = torch::zeros({2, 2}, torch::kDouble);
  const Field zero = [](const torch::Tensor& y, const torch::Tensor&) { return torch::zeros_like(y); };
  at::Generator gen = data::make_generator(0);
  auto message = [&](const LikelihoodOptions& options) {
    try {
      log_likelihood(zero, standard_normal_log_prob, x, options, gen);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "expected an Error";
    return std::string();
  };
  LikelihoodOptions options;
  options.divergence = "hutch";
  EXPECT_NE(message(options).find("hutchinson"), std::string::npos);
  options = {};
  options.probe = "normal";
  EXPECT_NE(message(options).find("probe"), std::string::npos);
  options = {};
  options.probes = 0;
  EXPECT_NE(message(options).find("probes must be >= 1"), std::string::npos);
  options = {};
  options.t_end = 1.0;
  EXPECT_NE(message(options).find("t_start and t_end"), std::string::npos);
  options = {};
  options.solver = "rk5";
  EXPECT_NE(message(options).find("unknown solver 'rk5'"), std::string::npos);
}

TEST(LikelihoodHelpers, StandardNormalLogProbSumsOverSampleDims) {
  const torch::Tensor x = torch::arange(12, torch::kFloat).reshape({2, 2, 3}) / 10.0;
  const torch::Tensor result = standard_normal_log_prob(x);
  EXPECT_EQ(result.scalar_type(), torch::kDouble);
  EXPECT_EQ(result.sizes(), torch::IntArrayRef({2}));
  for (int64_t b = 0; b < 2; ++b) {
    double expected = -3.0 * closed_form::kLogTwoPi;  // d = 6
    for (int64_t i = 0; i < 6; ++i) {
      const double v = static_cast<double>(b * 6 + i) / 10.0;
      expected -= 0.5 * v * v;
    }
    EXPECT_NEAR(result[b].item<double>(), expected, 1e-6);
  }
}

TEST(LikelihoodHelpers, BitsPerDim) {
  EXPECT_DOUBLE_EQ(bits_per_dim(10.0 * std::log(2.0), 10), 1.0);
  EXPECT_DOUBLE_EQ(bits_per_dim(-std::log(2.0), 1), -1.0);
  // N(0, I) at its mode: NLL = (d / 2) log(2 pi) nats = log2(2 pi) / 2 bits per dimension.
  const double nll = -standard_normal_log_prob(torch::zeros({1, 784}))[0].item<double>();
  EXPECT_NEAR(bits_per_dim(nll, 784), 0.5 * closed_form::kLogTwoPi / std::log(2.0), 1e-12);
  EXPECT_THROW(bits_per_dim(1.0, 0), c10::Error);
}

}  // namespace
}  // namespace flowlab::solvers
