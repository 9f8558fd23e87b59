// `flowlab ot A.npy B.npy`: a distance between two point clouds, by any metric of the registry.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>

#include "commands.h"
#include "flowlab/builtins.h"
#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/json.h"
#include "flowlab/io/npy.h"
#include "flowlab/ot/metric.h"

namespace flowlab::cli {
namespace {

torch::Tensor load_points(const std::string& path, torch::Dtype dtype, torch::Device device) {
  torch::Tensor t = io::read_npy(path);
  if (t.dim() == 1) t = t.unsqueeze(1);
  if (t.dim() < 2 || t.size(0) < 1) throw Error(path + ": expected points [n, d] (or [n, ...]), got shape " +
                                                 c10::str(t.sizes()));
  if (!t.is_floating_point()) t = t.to(torch::kFloat64);
  t = t.reshape({t.size(0), -1}).to(device, dtype);
  if (!torch::isfinite(t).all().item<bool>()) throw Error(path + ": contains NaN or infinite values");
  return t;
}


}  // namespace

int ot_command(const OtArgs& args) {
  register_builtins();
  config::Node node = config::Node::parse("{}", "flowlab ot");
  for (const std::string& setting : args.settings) node.apply_override(setting);
  std::unique_ptr<ot::Metric> metric;
  try {
    metric = ot::metric_registry().create(args.metric, node);
  } catch (const ConfigError& e) {
    throw ConfigError("flowlab ot --metric " + args.metric + ": " + e.what() +
                      " (`flowlab list metrics` shows each metric's keys)");
  }
  const torch::Dtype dtype = args.float32 ? torch::kFloat32 : torch::kFloat64;
  const torch::Device device(args.device);
  const torch::Tensor x = load_points(args.a, dtype, device);
  const torch::Tensor y = load_points(args.b, dtype, device);
  if (x.size(1) != y.size(1)) {
    throw Error("the clouds have different dimensions: " + args.a + " " + c10::str(x.sizes()) + ", " + args.b + " " +
                c10::str(y.sizes()));
  }
  // --repeat N: the fastest of N computations in this process (benchmarks; the first pays for fresh memory).
  ot::Measurement m;
  double seconds = std::numeric_limits<double>::infinity();
  for (int64_t repetition = 0; repetition < args.repeat; ++repetition) {
    at::Generator gen = at::detail::createCPUGenerator(args.seed);
    const auto start = std::chrono::steady_clock::now();
    m = metric->measure(x, y, gen);
    seconds = std::min(seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (args.json) {
    io::JsonObject json;
    json.add("metric", args.metric).add("n", x.size(0)).add("m", y.size(0)).add("d", x.size(1));
    json.merge(m.details);
    json.add("value", m.value)
        .add("converged", m.converged)
        .add("accepted", m.accepted)
        .add("seconds", seconds)
        .add("repeat", args.repeat);
    std::cout << json.str() << "\n";
  } else {
    std::cout << m.description << ": " << json_number(m.value) << "\n";
    if (!m.report.empty()) std::cout << "  " << m.report << "\n";
    std::cout << "  (" << json_number(seconds) << " s)\n";
  }
  if (!m.accepted) {
    std::cerr << "flowlab: error: Sinkhorn did not converge (" << m.report
              << "); the value above is not the divergence at this eps to --value-tolerance. Raise --eps or "
                 "--max-iter, loosen --tolerance or --value-tolerance, or drop --float32\n";
    return kExitFailure;
  }
  if (!m.converged) {
    std::cerr << "flowlab: note: the marginal error stayed above --tolerance (" << m.report
              << "), but the value is certified within " << json_number(m.value_bound) << " (value_tolerance x |value|)\n";
  }
  return kExitOk;
}

}  // namespace flowlab::cli
