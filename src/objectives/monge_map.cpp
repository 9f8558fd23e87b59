#include "flowlab/objectives/monge_map.h"

#include <torch/torch.h>

#include <cmath>

#include "flowlab/config/node.h"
#include "flowlab/core/log.h"
#include "flowlab/ot/monge_gap.h"
#include "flowlab/ot/sinkhorn_config.h"

namespace flowlab::objectives {

MongeMapOptions MongeMapOptions::read(config::Node& node) {
  MongeMapOptions o;
  o.fit.eps = 0.01;
  o.fit.tolerance = 1e-4;
  o.fit.max_iterations = 2000;
  ot::read_sinkhorn_options(node, o.fit, "eps of the fitting divergence S(T#source, data), in |x - y|^2 units");
  o.lambda = node.get<double>("lambda", o.lambda, "weight of the Monge gap (0: fit by the divergence alone)");
  node.expect(std::isfinite(o.lambda) && o.lambda >= 0, "lambda", "a number >= 0");
  o.gap = o.fit;
  o.gap.eps = node.get<double>("gap_eps", o.fit.eps, "eps of the Monge gap's entropic problem");
  node.expect(std::isfinite(o.gap.eps) && o.gap.eps > 0, "gap_eps", "a number > 0");
  return o;
}

torch::Tensor MongeMap::loss(nn::Model& model, const paths::Path&, const torch::Tensor& x0, const torch::Tensor& x1,
                             at::Generator&, const data::Condition& condition, const data::BatchShard&) const {
  TORCH_CHECK(condition.empty(), "monge_map: a Monge map is unconditional (model.num_classes must be 0)");
  const torch::Tensor t = torch::zeros({x0.size(0)}, x0.options());
  const torch::Tensor mapped = x0 + model.forward(x0, t).front().second;
  const auto flat = [](const torch::Tensor& x) { return x.flatten(1).to(torch::kFloat64); };
  const ot::SinkhornDivergence fit = ot::sinkhorn_divergence(flat(mapped), flat(x1), {}, {}, options_.fit);
  torch::Tensor loss = fit.value;
  bool converged = fit.converged();
  std::string summary = fit.summary();
  if (options_.lambda > 0) {
    ot::SinkhornReport report;
    loss = loss + options_.lambda * ot::monge_gap(flat(x0), flat(mapped), options_.gap, &report);
    converged = converged && report.converged;
    summary += "; gap: " + report.summary();
  }
  if (!converged && !warned_) {
    warned_ = true;
    log_warn("monge_map: Sinkhorn did not converge (" + summary +
             "); the gradients are approximate (raise objective.eps or objective.max_iterations)");
  }
  return loss.to(x0.scalar_type());
}

}  // namespace flowlab::objectives
