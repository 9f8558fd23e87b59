// The "sde_solvers" registry: names, docs, options read from a config section.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/solvers/sde.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {
namespace {

// Registered the way register_builtins() does it: through the ODE family's call.
Registry<SdeSolver>& registered() {
  static std::once_flag once;
  std::call_once(once, register_builtin_solvers);
  return sde_solver_registry();
}

TEST(SdeSolverRegistry, HoldsExactlyTheBuiltins) {
  EXPECT_EQ(registered().family(), "sde_solvers");
  EXPECT_EQ(registered().names(), (std::vector<std::string>{"euler_maruyama", "stochastic_heun"}));
  for (const std::string& name : registered().names()) EXPECT_FALSE(registered().doc(name).empty()) << name;
}

TEST(SdeSolverRegistry, SecondRegistrationIsHarmless) {
  registered();
  EXPECT_NO_THROW(register_builtin_sde_solvers());
  EXPECT_EQ(registered().names().size(), 2u);
}

TEST(SdeSolverRegistry, UnknownNameListsTheKnownOnes) {
  try {
    make_sde_solver("euler", SdeSolverOptions{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unknown SDE solver 'euler'"), std::string::npos) << message;
    EXPECT_NE(message.find("euler_maruyama, stochastic_heun"), std::string::npos) << message;
  }
}

TEST(SdeSolverRegistry, DocumentsTheOptionKeys) {
  for (const std::string& name : registered().names()) {
    std::vector<std::string> keys;
    for (const config::OptionDoc& option : registered().options(name)) {
      keys.push_back(option.key);
      EXPECT_FALSE(option.doc.empty()) << name << "." << option.key;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"steps", "final_step"})) << name;
  }
}

TEST(SdeSolverRegistry, BuildsFromAConfigSection) {
  config::Node node = config::Node::parse("type: stochastic_heun\nsteps: 3\nfinal_step: noise\n");
  const auto solver = registered().create(node);
  EXPECT_EQ(solver->name(), "stochastic_heun");
  EXPECT_EQ(solver->options().steps, 3);
  EXPECT_EQ(solver->options().final_step, FinalStep::kNoise);
  // dx = dt, no diffusion: x1 = x0 + 1 exactly, in 3 steps of 2 evaluations.
  const Field one = [](const torch::Tensor& x, const torch::Tensor&) { return torch::ones_like(x); };
  const Diffusion none = [](const torch::Tensor& t) { return torch::zeros_like(t); };
  const torch::Tensor x0 = torch::zeros({2, 2});
  NoiseStream noise = NoiseStream::for_state(1, 0, x0);
  const SdeSolveResult result = solver->integrate(one, none, x0, 0.0, 1.0, noise);
  EXPECT_EQ(result.nfe, 6);
  EXPECT_EQ(result.steps, 3);
  EXPECT_TRUE(torch::allclose(result.x, torch::ones({2, 2})));
}

TEST(SdeSolverOptionsRead, Defaults) {
  config::Node node = config::Node::parse("{}");
  const SdeSolverOptions options = SdeSolverOptions::read(node);
  EXPECT_EQ(options.steps, 100);
  EXPECT_EQ(options.final_step, FinalStep::kMean);
  EXPECT_FALSE(options.enable_grad);
}

TEST(SdeSolverOptionsRead, ReadsEveryKey) {
  config::Node node = config::Node::parse("steps: 7\nfinal_step: noise\n");
  const SdeSolverOptions options = SdeSolverOptions::read(node);
  EXPECT_EQ(options.steps, 7);
  EXPECT_EQ(options.final_step, FinalStep::kNoise);
  EXPECT_NO_THROW(node.check_all_used());
}

TEST(SdeSolverOptionsRead, RejectsBadValues) {
  for (const char* text : {"steps: 0\n", "steps: -4\n", "final_step: last\n", "final_step: 1\n"}) {
    config::Node node = config::Node::parse(text);
    EXPECT_THROW(SdeSolverOptions::read(node), ConfigError) << text;
  }
}

TEST(SdeSolverOptionsRead, UnknownKeyIsAnError) {
  config::Node node = config::Node::parse("type: euler_maruyama\nstep: 10\n");
  EXPECT_THROW(registered().create(node), ConfigError);
}

}  // namespace
}  // namespace flowlab::solvers
