#include "flowlab/objectives/coupling.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/data/dataset.h"
#include "flowlab/ot/assignment.h"
#include "flowlab/ot/ground_cost.h"
#include "flowlab/ot/sinkhorn.h"

namespace flowlab::objectives {
namespace {

std::unique_ptr<Coupling> coupling(const std::string& yaml) {
  register_builtin_couplings();
  config::Node node = config::Node::parse(yaml);
  auto c = coupling_registry().create(node);
  node.check_all_used();
  return c;
}

double paired_cost(const data::Batch& x0, const data::Batch& x1) {
  return (x0.x - x1.x).pow(2).sum(1).mean().item<double>();
}

TEST(Coupling, IndependentLeavesTheBatchAlone) {
  auto gen = data::make_generator(1);
  const data::Batch x0{torch::randn({8, 2}), {}}, x1{torch::randn({8, 2}), {}};
  auto c = coupling("type: independent\n");
  EXPECT_FALSE(c->active());
  EXPECT_TRUE(torch::equal(c->pair(x0, x1, gen).x, x0.x));
}

TEST(Coupling, ExactOtPermutesTheSourceToTheOptimalAssignment) {
  auto gen = data::make_generator(2);
  const data::Batch x0{torch::randn({64, 2}, gen), {}}, x1{torch::randn({64, 2}, gen) * 0.5, {}};
  const data::Batch paired = coupling("type: exact_ot\n")->pair(x0, x1, gen);
  // A permutation of x0 ...
  EXPECT_TRUE(torch::allclose(std::get<0>(paired.x.select(1, 0).sort()), std::get<0>(x0.x.select(1, 0).sort())));
  // ... whose cost is the exact transport cost, below the independent pairing's.
  const double optimum = ot::exact_transport(x0.x.to(torch::kFloat64), x1.x.to(torch::kFloat64)).cost.item<double>();
  EXPECT_NEAR(paired_cost(paired, x1), optimum, 1e-4);
  // Independent pairs cost E|x0|^2 + E|x1|^2 = 2.5; the optimum ~ W2^2 = 2 (1 - 0.5)^2 = 0.5.
  EXPECT_LT(paired_cost(paired, x1), 0.5 * paired_cost(x0, x1));
}

TEST(Coupling, SinkhornOtDrawsPairsFromThePlanConditionals) {
  // Four distinct values on each side, each repeated 250 times: one batch gives
  // 1000 draws, and the frequency of value i paired with value j is 4 P_ij of
  // the 4-point plan (copies share their potentials).
  auto gen = data::make_generator(3);
  const torch::Tensor values0 = torch::tensor({0.0, 1.0, 2.0, 3.0}), values1 = torch::tensor({0.5, 1.0, 2.5, 4.0});
  const torch::Tensor index = torch::arange(4).repeat({250});
  const data::Batch x0{values0.index_select(0, index).unsqueeze(1), {}};
  const data::Batch x1{values1.index_select(0, index).unsqueeze(1), {}};
  auto c = coupling("type: sinkhorn_ot\neps: 2.0\ntolerance: 1.0e-9\n");
  ot::SinkhornOptions o;
  o.eps = 2.0;
  o.tolerance = 1e-11;
  const torch::Tensor plan = ot::sinkhorn_on_costs(ot::cost_matrix(values0.unsqueeze(1).to(torch::kFloat64),
                                                                   values1.unsqueeze(1).to(torch::kFloat64),
                                                                   ot::GroundCost::squared_euclidean),
                                                   {}, {}, o)
                                 .plan;
  torch::Tensor counts = torch::zeros({4, 4}, torch::kFloat64);
  const int batches = 8;
  for (int k = 0; k < batches; ++k) {
    const torch::Tensor paired = c->pair(x0, x1, gen).x.squeeze(1);
    for (int64_t r = 0; r < 1000; ++r) counts[paired[r].item<int64_t>()][index[r].item<int64_t>()] += 1;
  }
  const torch::Tensor expected = plan * 4;  // P_ij / b_j, b_j = 1/4
  const torch::Tensor observed = counts / (batches * 250);
  const torch::Tensor se = (expected * (1 - expected) / (batches * 250)).sqrt() + 1e-12;
  EXPECT_LT(((observed - expected).abs() / se).max().item<double>(), 4.5) << observed << "\n" << expected;
  // Every pair has weight, and the plan is far from independent: the test sees all 16.
  EXPECT_GT(expected.min().item<double>(), 1e-3);
  EXPECT_GT(expected.max().item<double>(), 0.5);
}

TEST(Coupling, ClassAwarePairingStaysWithinClasses) {
  auto gen = data::make_generator(4);
  // Two classes, interleaved so that the nearest source point is often of the other class.
  const torch::Tensor labels = torch::tensor({0, 1, 0, 1, 0, 1, 0, 1}, torch::kInt64);
  const data::Batch x0{torch::randn({8, 2}, gen), labels};
  const data::Batch x1{torch::randn({8, 2}, gen), labels.flip(0)};
  for (const std::string type : {"exact_ot", "sinkhorn_ot"}) {
    const std::string options = type == "exact_ot" ? "" : "eps: 0.01\n";
    const data::Batch paired = coupling("type: " + type + "\nclass_aware: true\n" + options)->pair(x0, x1, gen);
    EXPECT_TRUE(torch::equal(paired.label, x1.label)) << type;
  }
  EXPECT_THROW(coupling("type: exact_ot\nclass_aware: true\n")->pair({x0.x, {}}, x1, gen), c10::Error);
}

TEST(Coupling, RejectsBadOptions) {
  EXPECT_THROW(coupling("type: sinkhorn_ot\neps: 0\n"), ConfigError);
  EXPECT_THROW(coupling("type: exact_ot\neps: 0.1\n"), ConfigError);  // not an option of exact_ot
  EXPECT_THROW(coupling("type: optimal\n"), ConfigError);
}

}  // namespace
}  // namespace flowlab::objectives
