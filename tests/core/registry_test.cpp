#include "flowlab/core/registry.h"

#include <gtest/gtest.h>

#include "flowlab/builtins.h"
#include "flowlab/nn/network.h"
#include "flowlab/ot/metric.h"

namespace flowlab {
namespace {

struct Widget {
  virtual ~Widget() = default;
  virtual int value() const = 0;
};
struct One : Widget {
  explicit One(const NoOptions&) {}
  int value() const override { return 1; }
};
struct Two : Widget {
  explicit Two(const NoOptions&) {}
  int value() const override { return 2; }
};

TEST(Registry, RepeatedRegistrationIsHarmlessAndConflictsAreErrors) {
  Registry<Widget> registry("widgets");
  registry.add_component<One, NoOptions>("one", "the first");
  registry.add_component<One, NoOptions>("one", "the first");  // again: nothing happens
  EXPECT_EQ(registry.names(), std::vector<std::string>{"one"});
  EXPECT_THROW((registry.add_component<Two, NoOptions>("one", "another component")), Error);
  config::Node node = config::Node::parse("type: one\n");
  EXPECT_EQ(registry.create(node)->value(), 1);
  config::Node typo = config::Node::parse("type: onee\n");
  try {
    registry.create(typo);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'one'"), std::string::npos) << e.what();
  }
}

TEST(Registry, EveryFamilyRegistersAgainWithoutChange) {
  register_builtins();
  const auto networks = nn::network_registry().names();
  const auto metrics = ot::metric_registry().names();
  // The areas' own calls after the top-level one, as tests of a single area make them.
  nn::register_builtin_networks();
  ot::register_builtin_metrics();
  register_builtins();
  EXPECT_EQ(nn::network_registry().names(), networks);
  EXPECT_EQ(ot::metric_registry().names(), metrics);
  EXPECT_FALSE(networks.empty());
}

}  // namespace
}  // namespace flowlab
