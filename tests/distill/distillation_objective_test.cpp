// The distillation objective: named, weighted terms from YAML, the objective's temperature passed
// to the terms that take one, warm-ups, BD-KD's balance rules, and config errors naming the key.
#include "flowlab/distill/distillation_objective.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/builtins.h"
#include "flowlab/core/error.h"
#include "flowlab/distill/bd_kd_balance.h"
#include "flowlab/distill/logit_losses.h"
#include "flowlab/train/classification.h"
#include "support/config_error.h"

namespace flowlab::distill {
namespace {

struct Logits {
  torch::Tensor s, t, y;
  Logits() {
    torch::manual_seed(11);
    s = torch::randn({6, 5}, torch::kFloat64);
    t = torch::randn({6, 5}, torch::kFloat64) * 2;
    y = torch::randint(0, 5, {6}, torch::kLong);
  }
};

DistillationObjective make(config::Node& node) {
  register_builtins();
  return DistillationObjective(node);
}

TEST(DistillationObjective, WeightedNamedTermsWithTheObjectivesTemperature) {
  const Logits l;
  config::Node node = config::Node::parse(
      "type: distillation\ntemperature: 3\nterms:\n  ce: {weight: 1.0}\n  kd: {weight: 2.0}\n"
      "  hot: {type: kd, temperature: 8, weight: 0.5}\n  pld: {weight: 0.25}\n",
      "objective.yaml");
  const DistillationObjective objective = make(node);
  node.check_all_used();
  std::map<std::string, torch::Tensor> parts;
  const double total = objective.loss({l.s, l.t, l.y, 0}, &parts).item<double>();
  const double ce = train::cross_entropy(l.s, l.y).item<double>();
  const double kd3 = kd_loss(l.s, l.t, 3.0).item<double>(), kd8 = kd_loss(l.s, l.t, 8.0).item<double>();
  const double pld = pld_loss(l.s, l.t, l.y, 1.0).item<double>();  // its own teacher temperature, 1
  EXPECT_NEAR(total, ce + 2 * kd3 + 0.5 * kd8 + 0.25 * pld, 1e-12);
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_NEAR(parts.at("loss_kd").item<double>(), kd3, 1e-14);
  EXPECT_NEAR(parts.at("loss_hot").item<double>(), kd8, 1e-14);
  // The resolved config says which temperature each term used.
  const std::string yaml = node.to_yaml();
  EXPECT_NE(yaml.find("temperature: 3"), std::string::npos) << yaml;
}

TEST(DistillationObjective, DkdRampsInOverItsWarmup) {
  const Logits l;
  config::Node node = config::Node::parse("terms: {dkd: {warmup_steps: 10, temperature: 1}}", "o.yaml");
  const DistillationObjective objective = make(node);
  const double full = dkd_loss(l.s, l.t, l.y, 1.0, 1.0, 8.0).item<double>();
  EXPECT_EQ(objective.loss({l.s, l.t, l.y, 0}).item<double>(), 0.0);
  EXPECT_NEAR(objective.loss({l.s, l.t, l.y, 5}).item<double>(), 0.5 * full, 1e-12);
  EXPECT_NEAR(objective.loss({l.s, l.t, l.y, 50}).item<double>(), full, 1e-12);
}

TEST(DistillationObjective, EveryTermIsBuiltFromItsName) {
  const Logits l;
  register_builtins();
  for (const std::string& name : distillation_term_registry().names()) {
    config::Node node = config::Node::parse("terms: {" + name + ": {}}", "o.yaml");
    const DistillationObjective objective(node);
    const torch::Tensor loss = objective.loss({l.s, l.t, l.y, 0});
    EXPECT_TRUE(std::isfinite(loss.item<double>())) << name;
    EXPECT_EQ(loss.dim(), 0) << name;
  }
  EXPECT_EQ(distillation_term_registry().names(),
            (std::vector<std::string>{"bd_kd", "ce", "dist", "dkd", "js", "kd", "pld", "reverse_kd", "sinkd"}));
}

// entropy_switch: reverse KL for a student less confident than its teacher, forward KL otherwise.
TEST(BdKdBalance, RulesWeighTheDirectionsByTheEntropyGap) {
  const torch::Tensor hs = torch::tensor({0.2, 1.5, 1.0}, torch::kFloat64);
  const torch::Tensor ht = torch::tensor({1.0, 0.5, 1.0}, torch::kFloat64);
  BdKdBalanceOptions o;
  o.minor_weight = 0.25;
  auto [forward, reverse] = make_bd_kd_balance(o)(hs, ht);
  EXPECT_TRUE(torch::equal(forward, torch::tensor({1.0, 0.25, 1.0}, torch::kFloat64))) << forward;
  EXPECT_TRUE(torch::equal(reverse, torch::tensor({0.25, 1.0, 0.25}, torch::kFloat64))) << reverse;
  o.rule = "sigmoid";
  o.sharpness = 2.0;
  std::tie(forward, reverse) = make_bd_kd_balance(o)(hs, ht);
  EXPECT_NEAR(reverse[0].item<double>(), 1 / (1 + std::exp(1.6)), 1e-15);
  EXPECT_NEAR(reverse[2].item<double>(), 0.5, 1e-15);
  EXPECT_TRUE(torch::allclose(forward + reverse, torch::ones({3}, torch::kFloat64)));
  o.rule = "constant";
  std::tie(forward, reverse) = make_bd_kd_balance(o)(hs, ht);
  EXPECT_TRUE(torch::equal(forward, torch::full({3}, 0.5, torch::kFloat64)));
  // With constant weights 1 and 0, BD-KD is KD.
  const Logits l;
  o.forward_weight = 1.0;
  o.reverse_weight = 0.0;
  EXPECT_NEAR(bd_kd_loss(l.s, l.t, 4.0, make_bd_kd_balance(o)).item<double>(), kd_loss(l.s, l.t, 4.0).item<double>(),
              1e-13);
}

TEST(DistillationObjective, ConfigErrorsNameTheKey) {
  register_builtins();
  const auto build = [](const std::string& yaml) {
    return [yaml] {
      config::Node node = config::Node::parse(yaml, "o.yaml");
      DistillationObjective objective(node);
      node.check_all_used();
    };
  };
  testing::expect_config_error(build("terms: {pldd: {}}"), {"pldd", "did you mean 'pld'"});
  testing::expect_config_error(build("terms: {kd: {weight: -1}}"), {"terms.kd.weight"});
  testing::expect_config_error(build("terms: {kd: {temprature: 2}}"), {"terms.kd.temprature"});
  testing::expect_config_error(build("terms: {}"), {"terms", "at least one term"});
  testing::expect_config_error(build("temperature: 0\nterms: {kd: {}}"), {"temperature"});
  testing::expect_config_error(build("terms: {sinkd: {form: exact}}"), {"terms.sinkd.form"});
  testing::expect_config_error(build("terms: {bd_kd: {rule: magic}}"), {"terms.bd_kd.rule"});
  testing::expect_config_error(build("type: kd\nterms: {kd: {}}"), {"type"});
}

}  // namespace
}  // namespace flowlab::distill
