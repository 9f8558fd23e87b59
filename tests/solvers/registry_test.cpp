// The "solvers" registry: names, docs, options read from a config section.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::solvers {
namespace {

Registry<Solver>& registered() {
  static std::once_flag once;
  std::call_once(once, register_builtin_solvers);
  return solver_registry();
}

TEST(SolverRegistry, HoldsExactlyTheBuiltins) {
  EXPECT_EQ(registered().family(), "solvers");
  EXPECT_EQ(registered().names(), (std::vector<std::string>{"dopri5", "euler", "heun", "midpoint", "rk4"}));
  for (const std::string& name : registered().names()) EXPECT_FALSE(registered().doc(name).empty()) << name;
}

TEST(SolverRegistry, SecondRegistrationIsHarmless) {
  registered();
  EXPECT_NO_THROW(register_builtin_solvers());
  EXPECT_EQ(registered().names().size(), 5u);
}

TEST(SolverRegistry, UnknownNameListsTheKnownOnes) {
  try {
    make_solver("rk5", SolverOptions{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unknown solver 'rk5'"), std::string::npos) << message;
    EXPECT_NE(message.find("known: euler, midpoint, heun, rk4, dopri5"), std::string::npos) << message;
  }
}

TEST(SolverRegistry, DocumentsTheOptionKeys) {
  for (const std::string& name : registered().names()) {
    std::vector<std::string> keys;
    for (const config::OptionDoc& option : registered().options(name)) {
      keys.push_back(option.key);
      EXPECT_FALSE(option.doc.empty()) << name << "." << option.key;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"steps", "atol", "rtol", "max_steps"})) << name;
  }
}

TEST(SolverRegistry, BuildsFromAConfigSection) {
  config::Node node = config::Node::parse("type: rk4\nsteps: 3\n");
  const auto solver = registered().create(node);
  const Field field = [](const torch::Tensor& x, const torch::Tensor&) { return torch::ones_like(x); };
  const SolveResult result = solver->integrate(field, torch::zeros({2, 2}), 0.0, 1.0);
  EXPECT_EQ(result.nfe, 3 * 4);
  EXPECT_TRUE(torch::allclose(result.x, torch::ones({2, 2})));
}

TEST(SolverOptionsRead, ReadsEveryKey) {
  config::Node node = config::Node::parse("steps: 7\natol: 1.0e-3\nrtol: 2.0e-4\nmax_steps: 99\n");
  const SolverOptions options = SolverOptions::read(node);
  EXPECT_EQ(options.steps, 7);
  EXPECT_DOUBLE_EQ(options.atol, 1e-3);
  EXPECT_DOUBLE_EQ(options.rtol, 2e-4);
  EXPECT_EQ(options.max_steps, 99);
  EXPECT_FALSE(options.enable_grad);
  EXPECT_NO_THROW(node.check_all_used());
}

TEST(SolverOptionsRead, RejectsBadValues) {
  for (const char* text : {"steps: 0\n", "atol: -1.0\n", "rtol: -0.5\n", "max_steps: 0\n", "atol: 0.0\nrtol: 0.0\n"}) {
    config::Node node = config::Node::parse(text);
    EXPECT_THROW(SolverOptions::read(node), ConfigError) << text;
  }
}

TEST(SolverOptionsRead, UnknownKeyIsAnError) {
  config::Node node = config::Node::parse("type: euler\nstep: 10\n");
  EXPECT_THROW(registered().create(node), ConfigError);
}

}  // namespace
}  // namespace flowlab::solvers
