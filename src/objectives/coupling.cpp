#include "flowlab/objectives/coupling.h"

#include <torch/torch.h>

#include <cmath>
#include <mutex>

#include "flowlab/config/node.h"
#include "flowlab/core/log.h"
#include "flowlab/ot/assignment.h"
#include "flowlab/ot/sinkhorn.h"
#include "flowlab/ot/sinkhorn_config.h"

namespace flowlab::objectives {
namespace {

class IndependentCoupling : public Coupling {
 public:
  explicit IndependentCoupling(const NoOptions&) {}
  data::Batch pair(const data::Batch& x0, const data::Batch&, at::Generator&) const override { return x0; }
  bool active() const override { return false; }
};

struct ClassAwareOptions {
  bool class_aware = false;
  double class_penalty = 10.0;
  void read(config::Node& node) {
    class_aware = node.get<bool>("class_aware", class_aware,
                                 "forbid pairs whose labels differ (both source and data must be labelled)");
    class_penalty = node.get<double>("class_penalty", class_penalty,
                                     "class_aware: extra cost of a cross-class pair, in units of the largest cost");
    node.expect(std::isfinite(class_penalty) && class_penalty > 0, "class_penalty", "a number > 0");
  }
};

// Squared Euclidean costs between flattened batches (float64), plus the class
// penalty where labels differ.
torch::Tensor pair_costs(const data::Batch& x0, const data::Batch& x1, const ClassAwareOptions& options) {
  const torch::Tensor a = x0.x.detach().flatten(1).to(torch::kFloat64);
  const torch::Tensor b = x1.x.detach().flatten(1).to(torch::kFloat64);
  torch::Tensor c = ot::cost_matrix(a, b, ot::GroundCost::squared_euclidean);
  if (options.class_aware) {
    TORCH_CHECK(x0.label.defined() && x1.label.defined(),
                "coupling.class_aware needs labels on both sides: a labelled source (source.type: dataset) "
                "and labelled data");
    const torch::Tensor differ = x0.label.to(c.device()).unsqueeze(1) != x1.label.to(c.device()).unsqueeze(0);
    c = c + differ.to(c.dtype()) * (options.class_penalty * std::max(c.max().item<double>(), 1e-12));
  }
  return c;
}

data::Batch select(const data::Batch& batch, const torch::Tensor& rows) {
  data::Batch out;
  out.x = batch.x.index_select(0, rows.to(batch.x.device()));
  if (batch.label.defined()) out.label = batch.label.index_select(0, rows.to(batch.label.device()));
  return out;
}

struct ExactOtOptions {
  ClassAwareOptions classes;
  static ExactOtOptions read(config::Node& node) {
    ExactOtOptions options;
    options.classes.read(node);
    return options;
  }
};

class ExactOtCoupling : public Coupling {
 public:
  explicit ExactOtCoupling(const ExactOtOptions& options) : options_(options) {}
  bool needs_labels() const override { return options_.classes.class_aware; }
  data::Batch pair(const data::Batch& x0, const data::Batch& x1, at::Generator&) const override {
    TORCH_CHECK(x0.x.size(0) == x1.x.size(0), "exact_ot coupling: batches of different sizes");
    // Rows are data points, so each x1 gets the source point assigned to it.
    const torch::Tensor cost = pair_costs(x0, x1, options_.classes).t();
    return select(x0, ot::optimal_assignment(cost));
  }

 private:
  ExactOtOptions options_;
};

struct SinkhornOtOptions {
  ClassAwareOptions classes;
  ot::SinkhornOptions sinkhorn;
  static SinkhornOtOptions read(config::Node& node) {
    SinkhornOtOptions options;
    options.sinkhorn.eps = 0.05;
    options.sinkhorn.tolerance = 1e-4;
    options.sinkhorn.max_iterations = 2000;
    ot::read_sinkhorn_options(node, options.sinkhorn,
                              "entropic regularisation, in units of |x0 - x1|^2 "
                              "(torchcfm's reg; 2 sigma^2 of the Schroedinger bridge)");
    options.classes.read(node);
    return options;
  }
};

class SinkhornOtCoupling : public Coupling {
 public:
  explicit SinkhornOtCoupling(const SinkhornOtOptions& options) : options_(options) {}
  bool needs_labels() const override { return options_.classes.class_aware; }
  data::Batch pair(const data::Batch& x0, const data::Batch& x1, at::Generator& gen) const override {
    const torch::Tensor cost = pair_costs(x0, x1, options_.classes);
    const ot::SinkhornResult r = ot::sinkhorn_on_costs(cost, {}, {}, options_.sinkhorn);
    if (!r.report.converged && !warned_) {
      warned_ = true;
      log_warn("sinkhorn_ot coupling: " + r.report.summary() + "; pairs are drawn from the plan as it is " +
               "(raise coupling.eps or coupling.max_iterations)");
    }
    // Column j of the plan, normalised, is the law of the source point paired with x1[j].
    const torch::Tensor conditional = r.plan.t().to(torch::kCPU).clamp_min(0);
    const torch::Tensor rows = torch::multinomial(conditional, 1, true, gen).squeeze(1);
    return select(x0, rows);
  }

 private:
  SinkhornOtOptions options_;
  mutable bool warned_ = false;
};

}  // namespace

Registry<Coupling>& coupling_registry() {
  static Registry<Coupling> registry("couplings");
  return registry;
}

void register_builtin_couplings() {
  {
    Registry<Coupling>& registry = coupling_registry();
    registry.add_component<IndependentCoupling, NoOptions>("independent", "x0 and x1 paired as drawn");
    registry.add_component<ExactOtCoupling, ExactOtOptions>(
        "exact_ot", "x0 permuted by the optimal assignment of the minibatch (squared Euclidean cost)");
    registry.add_component<SinkhornOtCoupling, SinkhornOtOptions>(
        "sinkhorn_ot", "x0 drawn from the entropic OT plan's conditional given each x1");
  }
}

}  // namespace flowlab::objectives
