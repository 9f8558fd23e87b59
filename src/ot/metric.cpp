#include "flowlab/ot/metric.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"
#include "flowlab/ot/assignment.h"
#include "flowlab/ot/energy_distance.h"
#include "flowlab/ot/frechet_distance.h"
#include "flowlab/ot/mmd.h"
#include "flowlab/ot/precision_recall.h"
#include "flowlab/ot/sinkhorn.h"
#include "flowlab/ot/sinkhorn_config.h"
#include "flowlab/ot/sliced_wasserstein.h"

namespace flowlab::ot {

double Metric::compute(const torch::Tensor& x, const torch::Tensor& y, at::Generator& gen) const {
  const Measurement m = measure(x, y, gen);
  if (!m.accepted) {
    log_warn(m.description + ": " + m.report + "; reported as NaN (raise eps or max_iterations)");
    return std::numeric_limits<double>::quiet_NaN();
  }
  return m.value;
}

namespace {

torch::Tensor flat(const torch::Tensor& t) { return t.detach().flatten(1); }

struct EnergyDistanceOptions {
  static EnergyDistanceOptions read(config::Node&) { return {}; }
};

class EnergyDistanceMetric : public Metric {
 public:
  explicit EnergyDistanceMetric(const EnergyDistanceOptions&) {}
  Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    Measurement m;
    m.value = energy_distance(flat(x), flat(y));
    m.description = "energy distance";
    return m;
  }
};

struct FrechetOptions {
  static FrechetOptions read(config::Node&) { return {}; }
};

class FrechetMetric : public Metric {
 public:
  explicit FrechetMetric(const FrechetOptions&) {}
  Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    const FrechetStatistics a = frechet_statistics(flat(x));
    const FrechetStatistics b = frechet_statistics(flat(y));
    const int64_t d = a.mean.size(0);
    Measurement m;
    m.value = frechet_distance(a, b);
    m.description = "Fréchet distance of fitted Gaussians (d = " + std::to_string(d) + ")";
    m.details.add("dimension", d).add("n_x", a.count).add("n_y", b.count);
    return m;
  }
};

struct ManifoldOptions {
  int64_t k = 3;
  static ManifoldOptions read(config::Node& node) {
    ManifoldOptions options;
    options.k = node.get<int64_t>("k", options.k, "each point's ball reaches its k-th nearest neighbour");
    node.expect(options.k >= 1, "k", "an integer >= 1");
    return options;
  }
};

// Precision (x, the model's samples, inside the data's manifold) or recall (y, the data, inside the samples').
class ManifoldMetric : public Metric {
 public:
  ManifoldMetric(const ManifoldOptions& options, bool recall) : options_(options), recall_(recall) {}
  Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    const torch::Tensor& queries = recall_ ? y : x;
    const int64_t inside = count_in_manifold(flat(queries), flat(recall_ ? x : y), options_.k);
    Measurement m;
    m.value = static_cast<double>(inside) / static_cast<double>(queries.size(0));
    m.description = std::string(recall_ ? "recall" : "precision") + " (k-NN manifolds, k = " +
                    std::to_string(options_.k) + ")";
    m.details.add("k", options_.k).add("inside", inside).add("n_x", x.size(0)).add("n_y", y.size(0));
    return m;
  }

 private:
  ManifoldOptions options_;
  bool recall_;
};

class PrecisionMetric : public ManifoldMetric {
 public:
  explicit PrecisionMetric(const ManifoldOptions& options) : ManifoldMetric(options, false) {}
};

class RecallMetric : public ManifoldMetric {
 public:
  explicit RecallMetric(const ManifoldOptions& options) : ManifoldMetric(options, true) {}
};

struct SlicedOptions {
  int64_t projections = 256;
  double p = 2.0;
  static SlicedOptions read(config::Node& node) {
    SlicedOptions options;
    options.projections = node.get<int64_t>("projections", options.projections, "number of random directions");
    node.expect(options.projections > 0, "projections", "an integer > 0");
    options.p = node.get<double>("p", options.p, "order p of the sliced W_p (2: the metric's name)");
    node.expect(std::isfinite(options.p) && options.p >= 1, "p", "a number >= 1");
    return options;
  }
};

class SlicedMetric : public Metric {
 public:
  explicit SlicedMetric(const SlicedOptions& options) : options_(options) {}
  Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator& gen) const override {
    Measurement m;
    m.value = sliced_wasserstein(flat(x), flat(y), options_.projections, gen, options_.p);
    m.description = "sliced W" + json_number(options_.p) + " (" + std::to_string(options_.projections) + " projections)";
    m.details.add("projections", options_.projections).add("p", options_.p);
    return m;
  }

 private:
  SlicedOptions options_;
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
  Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    Measurement m;
    const torch::Tensor a = flat(x), b = flat(y);
    const double bandwidth = options_.bandwidth > 0 ? options_.bandwidth : median_bandwidth(a, b);
    m.value = mmd(a, b, bandwidth, options_.biased);
    m.description = std::string("MMD^2 (RBF, ") + (options_.biased ? "biased" : "unbiased") + ")";
    m.details.add("bandwidth", bandwidth).add("biased", options_.biased);
    return m;
  }

 private:
  MmdOptions options_;
};

struct SinkhornMetricOptions {
  SinkhornOptions sinkhorn;
  std::string value_name = "kl";
  double value_tolerance = 1e-5;
  static SinkhornMetricOptions read(config::Node& node) {
    SinkhornMetricOptions options;
    SinkhornOptions& o = options.sinkhorn;
    o.eps = 0.01;
    read_sinkhorn_options(node, o, "regularisation eps, in cost units");
    o.cost = parse_ground_cost(node.get_choice("cost", "sqeuclidean", {"sqeuclidean", "half_sqeuclidean", "euclidean"},
                                               "ground cost: |x-y|^2 (POT, OTT), |x-y|^2/2 (GeomLoss p=2), |x-y|"));
    options.value_name =
        node.get_choice("value", "kl", {"kl", "entropy", "transport"}, "which value is debiased (see README)");
    o.eps_scaling = node.get<double>("scaling", o.eps_scaling, "eps annealing factor in (0, 1]; 1 = no annealing");
    node.expect(o.eps_scaling > 0 && o.eps_scaling <= 1, "scaling", "a number in (0, 1]");
    o.relaxation = node.get<double>("relaxation", o.relaxation,
                                    "over-relaxation w of the last stage: 0 = adaptive, 1 = plain, else w in (0, 2)");
    node.expect(o.relaxation >= 0 && o.relaxation < 2, "relaxation", "0 (adaptive) or a number in (0, 2)");
    options.value_tolerance = node.get<double>(
        "value_tolerance", options.value_tolerance,
        "report a run short of tolerance when its value is certified within this x |value|");
    node.expect(options.value_tolerance >= 0, "value_tolerance", "a number >= 0");
    return options;
  }
};

class SinkhornMetric : public Metric {
 public:
  explicit SinkhornMetric(const SinkhornMetricOptions& options)
      : options_(options), value_(parse_sinkhorn_value(options.value_name)) {}
  Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    const SinkhornOptions& o = options_.sinkhorn;
    const SinkhornDivergence d = sinkhorn_divergence(flat(x), flat(y).to(x.device()), {}, {}, o, value_);
    Measurement m;
    m.value = d.value.item<double>();
    m.converged = d.converged();
    m.accepted = d.accepted(options_.value_tolerance);
    m.value_bound = d.value_error_bound();
    m.description = "Sinkhorn divergence (" + ground_cost_name(o.cost) + ", " + options_.value_name + ", eps " +
                    json_number(o.eps) + ")";
    m.report = d.summary();
    m.details.add("cost", ground_cost_name(o.cost))
        .add("value_kind", options_.value_name)
        .add("eps", o.eps)
        .add("tolerance", o.tolerance)
        .add("value_tolerance", options_.value_tolerance)
        .add("iterations", d.cross.report.iterations)
        .add("marginal_error", d.cross.report.marginal_error)
        .add("value_error_bound", m.value_bound)
        .add("ot_xy", d.cross.value(value_).item<double>())
        .add("ot_xx", d.self_x.value(value_).item<double>())
        .add("ot_yy", d.self_y.value(value_).item<double>());
    return m;
  }

 private:
  SinkhornMetricOptions options_;
  SinkhornValue value_;
};

// W_c by the optimal assignment of the first `max_points` points of each cloud (all when 0: the
// clouds must then be of equal size); `root` reports sqrt(W_c), W2 for the squared cost.
class ExactTransportMetric : public Metric {
 public:
  ExactTransportMetric(GroundCost cost, int64_t max_points, bool root)
      : cost_(cost), max_points_(max_points), root_(root) {}
  Measurement measure(const torch::Tensor& x, const torch::Tensor& y, at::Generator&) const override {
    if (max_points_ == 0 && x.size(0) != y.size(0)) {
      throw Error("exact transport needs clouds of equal size (got " + std::to_string(x.size(0)) + " and " +
                  std::to_string(y.size(0)) + "); set max_points to compare the first points of each, or use "
                  "sinkhorn with a small eps");
    }
    const int64_t n = max_points_ == 0 ? x.size(0) : std::min({x.size(0), y.size(0), max_points_});
    const auto first = [n](const torch::Tensor& t) { return flat(t).narrow(0, 0, n); };
    const double cost = exact_transport(first(x), first(y).to(x.device()), cost_).cost.item<double>();
    Measurement m;
    m.value = root_ ? std::sqrt(cost) : cost;
    m.description = root_ ? "W2 (optimal assignment of " + std::to_string(n) + " points)"
                          : "exact transport cost (" + ground_cost_name(cost_) + ", optimal assignment of " +
                                std::to_string(n) + " points)";
    m.details.add("cost", ground_cost_name(cost_)).add("points", n);
    return m;
  }

 private:
  GroundCost cost_;
  int64_t max_points_;
  bool root_;
};

struct ExactOptions {
  GroundCost cost = GroundCost::squared_euclidean;
  int64_t max_points = 0;
  static ExactOptions read(config::Node& node) {
    ExactOptions options;
    options.cost = parse_ground_cost(node.get_choice("cost", "sqeuclidean",
                                                     {"sqeuclidean", "half_sqeuclidean", "euclidean"}, "ground cost"));
    options.max_points = node.get<int64_t>(
        "max_points", options.max_points,
        "points per side (the first ones); 0 = all, for clouds of equal size. The assignment costs O(n^3)");
    node.expect(options.max_points >= 0, "max_points", "an integer >= 0");
    return options;
  }
};

class ExactMetric : public ExactTransportMetric {
 public:
  explicit ExactMetric(const ExactOptions& o) : ExactTransportMetric(o.cost, o.max_points, false) {}
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

class ExactW2Metric : public ExactTransportMetric {
 public:
  explicit ExactW2Metric(const ExactW2Options& o)
      : ExactTransportMetric(GroundCost::squared_euclidean, o.max_points, true) {}
};

}  // namespace

Registry<Metric>& metric_registry() {
  static Registry<Metric> registry("metrics");
  return registry;
}

void register_builtin_metrics() {
  Registry<Metric>& registry = metric_registry();
  registry.add_component<EnergyDistanceMetric, EnergyDistanceOptions>(
      "energy_distance", "energy distance sqrt(2E|X-Y| - E|X-X'| - E|Y-Y'|) (V-statistic, float64)");
  registry.add_component<FrechetMetric, FrechetOptions>(
      "frechet", "Fréchet distance between Gaussians fitted to x and y: FID's formula on any features (float64)");
  registry.add_component<PrecisionMetric, ManifoldOptions>(
      "precision", "improved precision (Kynkäänniemi et al.): fraction of samples inside the data's k-NN manifold");
  registry.add_component<RecallMetric, ManifoldOptions>(
      "recall", "improved recall (Kynkäänniemi et al.): fraction of data inside the samples' k-NN manifold");
  registry.add_component<SlicedMetric, SlicedOptions>(
      "sliced_w2", "sliced Wasserstein distance over random unit directions (W2 unless p is set)");
  registry.add_component<MmdMetric, MmdOptions>("mmd", "squared MMD with an RBF kernel (unbiased by default)");
  registry.add_component<SinkhornMetric, SinkhornMetricOptions>(
      "sinkhorn", "debiased Sinkhorn divergence (NaN with a warning when Sinkhorn does not converge)");
  registry.add_component<ExactMetric, ExactOptions>(
      "exact", "W_c, the transport cost itself (not its root), by the optimal assignment (POT's emd2)");
  registry.add_component<ExactW2Metric, ExactW2Options>(
      "exact_w2", "W2 = sqrt(W_c) for |x-y|^2 between the first max_points samples and data points, by the "
                  "optimal assignment");
}

}  // namespace flowlab::ot
