#include "flowlab/ot/metric.h"
#include "flowlab/ot/assignment.h"
#include "flowlab/ot/sinkhorn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/ot/energy_distance.h"
#include "flowlab/ot/mmd.h"
#include "flowlab/ot/sliced_wasserstein.h"
#include "ot/oracle_arrays.h"

namespace flowlab::ot {
namespace {

std::unique_ptr<Metric> make_metric(const std::string& yaml) {
  testing::register_metrics_once();
  config::Node node = config::Node::parse(yaml);
  return metric_registry().create(node);
}

TEST(MetricRegistry, ListsExactlyTheBuiltInMetrics) {
  testing::register_metrics_once();
  EXPECT_EQ(metric_registry().family(), "metrics");
  EXPECT_EQ(metric_registry().names(), (std::vector<std::string>{"energy_distance", "exact", "exact_w2", "frechet", "mmd", "precision", "recall",
                                                          "sinkhorn", "sliced_w2"}));
  for (const auto& name : metric_registry().names()) EXPECT_FALSE(metric_registry().doc(name).empty()) << name;
  register_builtin_metrics();  // a second call is harmless
  EXPECT_EQ(metric_registry().names().size(), 9u);
}

TEST(MetricRegistry, DocumentsOptions) {
  testing::register_metrics_once();
  const auto options = metric_registry().options("sliced_w2");
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options[0].key, "projections");
  EXPECT_EQ(options[0].default_value, "256");
  EXPECT_EQ(options[1].key, "p");
  const auto mmd_options = metric_registry().options("mmd");
  ASSERT_EQ(mmd_options.size(), 2u);
  EXPECT_EQ(mmd_options[0].key, "bandwidth");
  EXPECT_EQ(mmd_options[1].key, "biased");
  EXPECT_TRUE(metric_registry().options("energy_distance").empty());
}

TEST(MetricRegistry, CreatedMetricsComputeTheFreeFunctions) {
  at::Generator gen = at::detail::createCPUGenerator(41);
  const torch::Tensor x = torch::randn({100, 2}, gen);
  const torch::Tensor y = torch::randn({80, 2}, gen) + 0.5;

  EXPECT_DOUBLE_EQ(make_metric("type: energy_distance")->compute(x, y, gen), energy_distance(x, y));
  EXPECT_DOUBLE_EQ(make_metric("type: mmd\nbandwidth: 0.7\nbiased: true")->compute(x, y, gen), mmd(x, y, 0.7, true));
  EXPECT_DOUBLE_EQ(make_metric("type: mmd")->compute(x, y, gen), mmd(x, y, 0.0, false));

  // sliced_w2 draws its directions from the generator it is given.
  at::Generator first = at::detail::createCPUGenerator(7);
  at::Generator second = at::detail::createCPUGenerator(7);
  const double from_registry = make_metric("type: sliced_w2\nprojections: 64")->compute(x, y, first);
  EXPECT_DOUBLE_EQ(from_registry, sliced_wasserstein(x, y, random_unit_directions(2, 64, second)));
  EXPECT_GT(from_registry, 0.2);
  at::Generator third = at::detail::createCPUGenerator(7);
  at::Generator fourth = at::detail::createCPUGenerator(7);
  EXPECT_DOUBLE_EQ(make_metric("type: sliced_w2\nprojections: 64\np: 1")->compute(x, y, third),
                   sliced_wasserstein(x, y, random_unit_directions(2, 64, fourth), 1.0));

  const torch::Tensor x64 = x.to(torch::kFloat64), y64 = y.to(torch::kFloat64);
  SinkhornOptions o;
  o.eps = 0.1;
  EXPECT_DOUBLE_EQ(make_metric("type: sinkhorn\neps: 0.1")->compute(x64, y64, gen),
                   sinkhorn_divergence(x64, y64, {}, {}, o).value.item<double>());
  EXPECT_DOUBLE_EQ(make_metric("type: exact_w2\nmax_points: 50")->compute(x64, y64, gen),
                   std::sqrt(exact_transport(x64.narrow(0, 0, 50), y64.narrow(0, 0, 50)).cost.item<double>()));
  // exact: W_c itself, for any ground cost; all points, so the clouds must be of equal size.
  const torch::Tensor y64_100 = torch::randn({100, 2}, gen).to(torch::kFloat64);
  EXPECT_DOUBLE_EQ(make_metric("type: exact\ncost: euclidean")->compute(x64, y64_100, gen),
                   exact_transport(x64, y64_100, GroundCost::euclidean).cost.item<double>());
  EXPECT_THROW(make_metric("type: exact")->compute(x64, y64, gen), Error);
  EXPECT_DOUBLE_EQ(make_metric("type: exact\nmax_points: 50")->compute(x64, y64, gen),
                   exact_transport(x64.narrow(0, 0, 50), y64.narrow(0, 0, 50)).cost.item<double>());
  // Not converged: NaN, never a wrong number.
  EXPECT_TRUE(std::isnan(make_metric("type: sinkhorn\neps: 0.001\nmax_iterations: 3")->compute(x64, y64, gen)));
  // Short of the marginal tolerance but certified within value_tolerance x |value|: reported.
  o.eps = 0.05;
  o.max_iterations = 40;
  const SinkhornDivergence cut = sinkhorn_divergence(x64, y64, {}, {}, o);
  ASSERT_FALSE(cut.converged());
  const double relative = cut.value_error_bound() / std::abs(cut.value.item<double>());
  ASSERT_LT(relative, 0.5);
  EXPECT_DOUBLE_EQ(make_metric("type: sinkhorn\neps: 0.05\nmax_iterations: 40\nvalue_tolerance: " +
                               std::to_string(2 * relative))
                       ->compute(x64, y64, gen),
                   cut.value.item<double>());
  EXPECT_TRUE(std::isnan(make_metric("type: sinkhorn\neps: 0.05\nmax_iterations: 40\nvalue_tolerance: " +
                                     std::to_string(relative / 2))
                             ->compute(x64, y64, gen)));
}

TEST(MetricRegistry, MeasurementsSayHowTheyWereComputed) {
  at::Generator gen = at::detail::createCPUGenerator(43);
  const torch::Tensor x = torch::randn({60, 2}, gen, torch::kFloat64);
  const torch::Tensor y = torch::randn({50, 2}, gen, torch::kFloat64) + 0.5;
  const Measurement converged = make_metric("type: sinkhorn\neps: 0.1")->measure(x, y, gen);
  EXPECT_TRUE(converged.converged && converged.accepted);
  EXPECT_NE(converged.description.find("eps 0.1"), std::string::npos) << converged.description;
  EXPECT_NE(converged.details.str().find("\"iterations\""), std::string::npos) << converged.details.str();
  const Measurement cut = make_metric("type: sinkhorn\neps: 0.001\nmax_iterations: 3")->measure(x, y, gen);
  EXPECT_FALSE(cut.converged);
  EXPECT_FALSE(cut.accepted);
  EXPECT_TRUE(std::isfinite(cut.value));  // measure() shows the number; compute() refuses it
  EXPECT_FALSE(cut.report.empty());
  const Measurement closed = make_metric("type: mmd\nbandwidth: 0.5")->measure(x, y, gen);
  EXPECT_TRUE(closed.converged && closed.accepted);
  EXPECT_EQ(closed.value_bound, 0.0);
  EXPECT_NE(closed.details.str().find("\"bandwidth\": 0.5"), std::string::npos) << closed.details.str();
  // A float32 input is measured in float32: the metric does not cast behind the caller's back.
  const double in_float32 = make_metric("type: exact")->compute(x.narrow(0, 0, 50).to(torch::kFloat32),
                                                                y.to(torch::kFloat32), gen);
  const double in_float64 = make_metric("type: exact")->compute(x.narrow(0, 0, 50), y, gen);
  EXPECT_NEAR(in_float32, in_float64, 1e-5 * in_float64);
}

TEST(MetricRegistry, BadOptionsAreConfigErrors) {
  EXPECT_THROW(make_metric("type: sliced_w2\np: 0.5"), ConfigError);
  EXPECT_THROW(make_metric("type: exact\nmax_points: -1"), ConfigError);
  EXPECT_THROW(make_metric("type: sinkhorn\nscaling: 0"), ConfigError);
  EXPECT_THROW(make_metric("type: sinkhorn\nrelaxation: 2"), ConfigError);
  EXPECT_THROW(make_metric("type: sliced_w2\nprojections: 0"), ConfigError);
  EXPECT_THROW(make_metric("type: mmd\nbandwidth: -1"), ConfigError);
  EXPECT_THROW(make_metric("type: mmd\nbandwith: 1"), ConfigError);  // unknown key
  EXPECT_THROW(make_metric("type: energy"), ConfigError);
  EXPECT_THROW(make_metric("type: sinkhorn\neps: 0"), ConfigError);
  EXPECT_THROW(make_metric("type: sinkhorn\ncost: l1"), ConfigError);
  EXPECT_THROW(make_metric("type: sinkhorn\nvalue_tolerance: -1"), ConfigError);
}

}  // namespace
}  // namespace flowlab::ot
