#include "flowlab/ot/metric.h"

#include <torch/torch.h>

#include <cmath>
#include <mutex>

#include "flowlab/config/node.h"
#include "flowlab/ot/energy_distance.h"
#include "flowlab/ot/mmd.h"
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

}  // namespace

Registry<Metric>& metric_registry() {
  static Registry<Metric> registry("metrics");
  return registry;
}

void register_builtin_metrics() {
  // Idempotent, so tests and register_all() may both call it.
  static std::once_flag once;
  std::call_once(once, [] {
    Registry<Metric>& registry = metric_registry();
    registry.add_component<EnergyDistanceMetric, EnergyDistanceOptions>(
        "energy_distance", "energy distance sqrt(2E|X-Y| - E|X-X'| - E|Y-Y'|) (V-statistic, float64)");
    registry.add_component<SlicedW2Metric, SlicedW2Options>(
        "sliced_w2", "sliced 2-Wasserstein distance over random unit directions");
    registry.add_component<MmdMetric, MmdOptions>("mmd", "squared MMD with an RBF kernel (unbiased by default)");
  });
}

}  // namespace flowlab::ot
