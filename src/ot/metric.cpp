#include "flowlab/ot/metric.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "flowlab/config/node.h"
#include "flowlab/core/log.h"
#include "flowlab/ot/assignment.h"
#include "flowlab/ot/energy_distance.h"
#include "flowlab/ot/mmd.h"
#include "flowlab/ot/sinkhorn.h"
#include "flowlab/ot/sinkhorn_config.h"
#include "flowlab/ot/sliced_wasserstein.h"

namespace flowlab::ot {
namespace {

struct EnergyDistanceOptions {
  static EnergyDistanceOptions read(config::Node&) { return {}; }
};

class EnergyDistanceMetric : public Metric {
 public:
  explicit EnergyDistanceMetric(const EnergyDistanceOptions&) {}
  double compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    return energy_distance(x, y);
  }
};

struct SlicedW2Options {
  int64_t projections = 256;
  static SlicedW2Options read(config::Node& node) {
    SlicedW2Options options;
    options.projections = node.get<int64_t>("projections", options.projections, "number of random directions");
    node.expect(options.projections > 0, "projections", "an integer > 0");
    return options;
  }
};

class SlicedW2Metric : public Metric {
 public:
  explicit SlicedW2Metric(const SlicedW2Options& options) : options_(options) {}
  double compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator& gen) const override {
    return sliced_wasserstein(x, y, options_.projections, gen, 2.0);
  }

 private:
  SlicedW2Options options_;
};

struct MmdOptions {
  double bandwidth = 0.0;
  bool biased = false;
  static MmdOptions read(config::Node& node) {
    MmdOptions options;
    options.bandwidth =
        node.get<double>("bandwidth", options.bandwidth, "RBF kernel bandwidth h; 0 = median heuristic");
    node.expect(std::isfinite(options.bandwidth) && options.bandwidth >= 0, "bandwidth",
                "a number >= 0 (0 selects the median heuristic)");
    options.biased =
        node.get<bool>("biased", options.biased, "V-statistic (all pairs) instead of the unbiased U-statistic");
    return options;
  }
};

class MmdMetric : public Metric {
 public:
  explicit MmdMetric(const MmdOptions& options) : options_(options) {}
  double compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    return mmd(x, y, options_.bandwidth, options_.biased);
  }

 private:
  MmdOptions options_;
};

struct SinkhornMetricOptions {
  SinkhornOptions sinkhorn;
  SinkhornValue value = SinkhornValue::kl;
  double value_tolerance = 1e-5;
  static SinkhornMetricOptions read(config::Node& node) {
    SinkhornMetricOptions options;
    SinkhornOptions& o = options.sinkhorn;
    o.eps = 0.01;
    read_sinkhorn_options(node, o, "regularisation eps, in cost units");
    o.cost = parse_ground_cost(node.get_choice("cost", "sqeuclidean", {"sqeuclidean", "half_sqeuclidean", "euclidean"},
                                               "ground cost"));
    options.value = parse_sinkhorn_value(
        node.get_choice("value", "kl", {"kl", "entropy", "transport"}, "which value is debiased (see README)"));
    options.value_tolerance = node.get<double>(
        "value_tolerance", options.value_tolerance,
        "report a run short of tolerance when its value is certified within this x |value|");
    node.expect(options.value_tolerance >= 0, "value_tolerance", "a number >= 0");
    return options;
  }
};

class SinkhornMetric : public Metric {
 public:
  explicit SinkhornMetric(const SinkhornMetricOptions& options) : options_(options) {}
  double compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    const auto flat = [](const torch::Tensor& t) { return t.detach().flatten(1).to(torch::kFloat64); };
    const SinkhornDivergence d = sinkhorn_divergence(flat(x), flat(y).to(x.device()), {}, {}, options_.sinkhorn,
                                                     options_.value);
    if (!d.accepted(options_.value_tolerance)) {
      // NaN, not a number that is not the divergence.
      log_warn("sinkhorn metric: " + d.summary() + "; reported as NaN (raise eps or max_iterations)");
      return std::numeric_limits<double>::quiet_NaN();
    }
    return d.value.item<double>();
  }

 private:
  SinkhornMetricOptions options_;
};

struct ExactW2Options {
  int64_t max_points = 2000;
  static ExactW2Options read(config::Node& node) {
    ExactW2Options options;
    options.max_points = node.get<int64_t>("max_points", options.max_points,
                                           "points per side (the first ones); the assignment costs O(n^3)");
    node.expect(options.max_points > 0, "max_points", "an integer > 0");
    return options;
  }
};

class ExactW2Metric : public Metric {
 public:
  explicit ExactW2Metric(const ExactW2Options& options) : options_(options) {}
  double compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    const int64_t n = std::min({x.size(0), y.size(0), options_.max_points});
    const auto first = [n](const torch::Tensor& t) { return t.detach().narrow(0, 0, n).flatten(1).to(torch::kFloat64); };
    return std::sqrt(exact_transport(first(x), first(y).to(x.device())).cost.item<double>());
  }

 private:
  ExactW2Options options_;
};

}  // namespace

Registry<Metric>& metric_registry() {
  static Registry<Metric> registry("metrics");
  return registry;
}

void register_builtin_metrics() {
  {
    Registry<Metric>& registry = metric_registry();
    registry.add_component<EnergyDistanceMetric, EnergyDistanceOptions>(
        "energy_distance", "energy distance sqrt(2E|X-Y| - E|X-X'| - E|Y-Y'|) (V-statistic, float64)");
    registry.add_component<SlicedW2Metric, SlicedW2Options>(
        "sliced_w2", "sliced 2-Wasserstein distance over random unit directions");
    registry.add_component<MmdMetric, MmdOptions>("mmd", "squared MMD with an RBF kernel (unbiased by default)");
    registry.add_component<SinkhornMetric, SinkhornMetricOptions>(
        "sinkhorn", "debiased Sinkhorn divergence (NaN with a warning when Sinkhorn does not converge)");
    registry.add_component<ExactW2Metric, ExactW2Options>(
        "exact_w2", "W2 between equal numbers of samples and data points by the optimal assignment");
  }
}

}  // namespace flowlab::ot
