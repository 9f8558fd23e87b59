#include "flowlab/config/node.h"

#include <gtest/gtest.h>

#include <fstream>

#include "flowlab/core/error.h"
#include "support/helpers.h"
#include "support/config_error.h"

namespace flowlab::config {
namespace {

using testing::config_error_of;

constexpr const char* kYaml =
    "train:\n"
    "  steps: 100\n"
    "  optimizer:\n"
    "    type: adamw\n"
    "    lr: -0.1\n"
    "model:\n"
    "  hiden: [64, 64]\n"
    "  activation: silu\n";

TEST(ConfigNode, TypedReadsAndDefaultsWrittenBack) {
  Node root = Node::parse(kYaml, "moons.yaml");
  Node train = root.section("train");
  EXPECT_EQ(train.get<int64_t>("steps", 5), 100);
  EXPECT_EQ(train.get<int64_t>("batch_size", 256), 256);
  EXPECT_DOUBLE_EQ(train.section("optimizer").get<double>("lr", 1.0), -0.1);
  EXPECT_NE(root.to_yaml().find("batch_size: 256"), std::string::npos) << root.to_yaml();
}

TEST(ConfigNode, UnknownKeyNamesPathLineAndSuggestion) {
  Node root = Node::parse(kYaml, "moons.yaml");
  Node model = root.section("model");
  model.get<std::vector<int64_t>>("hidden", {256});
  model.get<std::string>("activation", "silu");
  const std::string msg = config_error_of([&] { model.check_all_used(); });
  EXPECT_NE(msg.find("model.hiden: unknown key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'hidden'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("moons.yaml:7:3"), std::string::npos) << msg;
}

TEST(ConfigNode, UnknownTopLevelSectionIsAnError) {
  Node root = Node::parse("trian:\n  steps: 3\ntrain:\n  steps: 4\n", "x.yaml");
  root.section("train").get<int64_t>("steps", 1);
  const std::string msg = config_error_of([&] { root.check_all_used(); });
  EXPECT_NE(msg.find("trian: unknown key (did you mean 'train'?) (x.yaml:1:1)"), std::string::npos) << msg;
}

TEST(ConfigNode, NestedUnreadKeysAreFoundFromTheRoot) {
  Node root = Node::parse("a:\n  b:\n    c: 1\n    d: 2\n", "n.yaml");
  root.section("a").section("b").get<int>("c", 0);
  const std::string msg = config_error_of([&] { root.check_all_used(); });
  EXPECT_NE(msg.find("a.b.d: unknown key (n.yaml:4:5)"), std::string::npos) << msg;
}

TEST(ConfigNode, WrongTypeNamesExpectedFoundAndLine) {
  Node root = Node::parse("train:\n  steps: many\n  hidden: [1, x]\n", "t.yaml");
  Node train = root.section("train");
  std::string msg = config_error_of([&] { train.get<int64_t>("steps", 1); });
  EXPECT_EQ(msg, "train.steps: expected an integer, got 'many' (t.yaml:2:10)");
  msg = config_error_of([&] { train.get<std::vector<int64_t>>("hidden", {}); });
  EXPECT_NE(msg.find("train.hidden: expected a list of integers, got a list [1, x] (t.yaml:3:11)"), std::string::npos) << msg;
  msg = config_error_of([&] { root.get<double>("train", 1.0); });
  EXPECT_NE(msg.find("train: expected a number, got a section"), std::string::npos) << msg;
}

TEST(ConfigNode, IntegersRejectFractionsButAcceptExponentForm) {
  Node root = Node::parse("a: 2.5\nb: 1e4\nc: 7\n");
  EXPECT_THROW(root.get<int64_t>("a", 0), ConfigError);
  EXPECT_EQ(root.get<int64_t>("b", 0), 10000);
  EXPECT_EQ(root.get<int>("c", 0), 7);
  EXPECT_DOUBLE_EQ(root.get<double>("c", 0), 7.0);
}

TEST(ConfigNode, MissingRequiredKey) {
  Node root = Node::parse("data:\n  noise: 0.1\n", "d.yaml");
  Node data = root.section("data");
  const std::string msg = config_error_of([&] { data.require<std::string>("type", "which dataset"); });
  EXPECT_NE(msg.find("data.type: missing required key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("d.yaml:2:3"), std::string::npos) << msg;
}

TEST(ConfigNode, ExpectReportsFoundValue) {
  Node root = Node::parse(kYaml, "moons.yaml");
  Node opt = root.section("train").section("optimizer");
  const double lr = opt.get<double>("lr", 1e-3);
  const std::string msg = config_error_of([&] { opt.expect(lr > 0, "lr", "a number > 0"); });
  EXPECT_EQ(msg, "train.optimizer.lr: expected a number > 0, got '-0.1' (moons.yaml:5:9)");
}

TEST(ConfigNode, ExpectOnAMissingKeyPointsAtItsSection) {
  // A check of a key that is not there (a condition between two keys, one of them defaulted) is a
  // ConfigError at the section, not yaml-cpp's InvalidNode.
  Node root = Node::parse("data:\n  noise: 0.1\n", "d.yaml");
  Node data = root.section("data");
  const std::string msg = config_error_of([&] { data.expect(false, "radius", "a number > 0"); });
  EXPECT_EQ(msg, "data.radius: expected a number > 0, got nothing (d.yaml:2:3)");
  EXPECT_NE(config_error_of([&] { Node::parse("", "e.yaml").expect(false, "x", "y"); }).find("x: expected y"),
            std::string::npos);
}

TEST(ConfigNode, ChoiceSuggestsClosest) {
  Node root = Node::parse("solver: huen\n", "s.yaml");
  const std::string msg =
      config_error_of([&] { root.get_choice("solver", "heun", {"euler", "heun", "rk4"}); });
  EXPECT_NE(msg.find("did you mean 'heun'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("s.yaml:1:9"), std::string::npos) << msg;
}

TEST(ConfigNode, OverridesParseYamlAndNameTheirOrigin) {
  Node root = Node::parse(kYaml, "moons.yaml");
  root.apply_override("train.optimizer.lr=3e-4");
  root.apply_override("model.hidden=[8, 16]");
  root.apply_override("sample.solver=rk4");
  EXPECT_DOUBLE_EQ(root.section("train").section("optimizer").get<double>("lr", 0), 3e-4);
  EXPECT_EQ(root.section("model").get<std::vector<int64_t>>("hidden", {}), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(root.section("sample").get<std::string>("solver", ""), "rk4");
  root.apply_override("train.steps=lots");
  const std::string msg = config_error_of([&] { root.section("train").get<int64_t>("steps", 1); });
  EXPECT_EQ(msg, "train.steps: expected an integer, got 'lots' (--set train.steps=lots)");
}

TEST(ConfigNode, BadOverrides) {
  Node root = Node::parse(kYaml, "moons.yaml");
  EXPECT_NE(config_error_of([&] { root.apply_override("train.steps"); }).find("expected KEY.PATH=VALUE"),
            std::string::npos);
  EXPECT_NE(config_error_of([&] { root.apply_override("train..lr=1"); }).find("not a dotted key path"),
            std::string::npos);
  EXPECT_NE(config_error_of([&] { root.apply_override("train.steps.x=1"); }).find("'train.steps' is '100', not a section"),
            std::string::npos);
  EXPECT_NE(config_error_of([&] { root.apply_override("model.hidden=[1, 2"); }).find("cannot parse"),
            std::string::npos);
}

TEST(ConfigNode, FileErrors) {
  flowlab::testing::TempDir dir;
  EXPECT_NE(config_error_of([&] { Node::load_file(dir.file("missing.yaml")); }).find("cannot read config file"),
            std::string::npos);
  {
    std::ofstream(dir.file("bad.yaml")) << "a: [1, 2\nb: 3\n";
  }
  EXPECT_NE(config_error_of([&] { Node::load_file(dir.file("bad.yaml")); }).find("invalid YAML"), std::string::npos);
  {
    std::ofstream(dir.file("list.yaml")) << "- 1\n- 2\n";
  }
  EXPECT_NE(config_error_of([&] { Node::load_file(dir.file("list.yaml")); }).find("mapping of sections"),
            std::string::npos);
}

TEST(ConfigNode, ResolvedConfigRoundTrips) {
  flowlab::testing::TempDir dir;
  Node root = Node::parse("train:\n  steps: 10\n", "r.yaml");
  Node train = root.section("train");
  train.get<int64_t>("steps", 1);
  train.get<double>("lr", 1e-3);
  train.section("ema").get<double>("decay", 0.999);
  root.save(dir.file("resolved.yaml"));
  Node again = Node::load_file(dir.file("resolved.yaml"));
  Node train2 = again.section("train");
  EXPECT_EQ(train2.get<int64_t>("steps", 0), 10);
  EXPECT_DOUBLE_EQ(train2.get<double>("lr", 0), 1e-3);
  EXPECT_DOUBLE_EQ(train2.section("ema").get<double>("decay", 0), 0.999);
  EXPECT_NO_THROW(again.check_all_used());
}

TEST(ConfigNode, DescribeRecordsOptions) {
  Node node = Node::describe();
  node.require<std::string>("type", "which one");
  node.get<std::vector<int64_t>>("hidden", {256, 256}, "widths");
  node.section("ema", "moving average").get<double>("decay", 0.999, "decay rate");
  node.expect(false, "hidden", "never checked while describing");
  const auto options = node.recorded_options();
  ASSERT_EQ(options.size(), 4u);
  EXPECT_TRUE(options[0].required);
  EXPECT_EQ(options[1].default_value, "[256, 256]");
  EXPECT_EQ(options[3].key, "ema.decay");
  EXPECT_EQ(options[3].doc, "decay rate");
}

}  // namespace
}  // namespace flowlab::config
