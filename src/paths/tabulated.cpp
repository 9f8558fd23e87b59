#include "flowlab/paths/tabulated.h"

#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <sstream>

#include "flowlab/core/error.h"
#include "flowlab/io/npy.h"
#include "numeric.h"

namespace flowlab::paths {
namespace {

// Endpoint coefficients read from text or computed numerically are accepted this close to exact
// (the grid's ends must be exactly 0 and 1).
constexpr double kEndpointTolerance = 1e-9;
const char* const kColumns[] = {"t", "alpha", "beta", "gamma"};

std::string number(double v) {
  std::ostringstream out;
  out << std::setprecision(12) << v;
  return out.str();
}

torch::Tensor to_tensor(const std::vector<double>& v) { return torch::tensor(v, torch::kFloat64); }

/// The first thing wrong with a table: the column it concerns and why; key "" when it is fine.
struct TableProblem {
  std::string key, message;
};

TableProblem endpoint_problem(const std::string& name, const std::vector<double>& v, double at_0, double at_1) {
  if (std::abs(v.front() - at_0) > kEndpointTolerance) {
    return {name, name + "(0) = " + name + "[0] must be " + number(at_0) + ", got " + number(v.front())};
  }
  if (std::abs(v.back() - at_1) > kEndpointTolerance) {
    return {name, name + "(1) = " + name + "[K] must be " + number(at_1) + ", got " + number(v.back())};
  }
  return {};
}

TableProblem table_problem(const std::vector<double>& t, const std::vector<double>& alpha,
                           const std::vector<double>& beta, const std::vector<double>& gamma) {
  if (t.size() < 2) return {"t", "needs at least 2 points (t_0 = 0 and t_K = 1), got " + std::to_string(t.size())};
  const std::vector<double>* columns[] = {&t, &alpha, &beta, &gamma};
  for (int c = 0; c < 4; ++c) {
    const auto& column = *columns[c];
    if (column.size() != t.size()) {
      return {kColumns[c], "needs one value per time: " + std::to_string(t.size()) + " values, got " +
                               std::to_string(column.size())};
    }
    for (double v : column) {
      if (!std::isfinite(v)) return {kColumns[c], "values must be finite, got " + number(v)};
    }
  }
  if (t.front() != 0.0 || t.back() != 1.0) {
    return {"t", "the grid must run from t_0 = 0 to t_K = 1, got " + number(t.front()) + " to " + number(t.back())};
  }
  for (std::size_t k = 1; k < t.size(); ++k) {
    if (!(t[k] > t[k - 1])) {
      return {"t", "must be strictly increasing: t[" + std::to_string(k) + "] = " + number(t[k]) + " is not above t[" +
                       std::to_string(k - 1) + "] = " + number(t[k - 1])};
    }
  }
  if (TableProblem p = endpoint_problem("alpha", alpha, 1.0, 0.0); !p.key.empty()) return p;
  if (TableProblem p = endpoint_problem("beta", beta, 0.0, 1.0); !p.key.empty()) return p;
  for (std::size_t k = 0; k < gamma.size(); ++k) {
    if (gamma[k] < 0) return {"gamma", "must be >= 0, gamma[" + std::to_string(k) + "] = " + number(gamma[k])};
  }
  return endpoint_problem("gamma", gamma, 0.0, 0.0);
}

// Sets the endpoint values that passed the tolerance check exactly.
void snap_endpoints(std::vector<double>& alpha, std::vector<double>& beta, std::vector<double>& gamma) {
  alpha.front() = 1.0, alpha.back() = 0.0;
  beta.front() = 0.0, beta.back() = 1.0;
  gamma.front() = 0.0, gamma.back() = 0.0;
}

// Fills o.t, o.alpha, o.beta, o.gamma from the .npy table named by the key "file".
void read_table_file(config::Node& node, TabulatedOptions& o) {
  torch::Tensor table;
  try {
    table = io::read_npy(o.file);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    node.fail("file", e.what());
  }
  if (table.dim() != 2 || (table.size(1) != 3 && table.size(1) != 4) || table.dtype() == torch::kBool) {
    std::ostringstream shape;
    shape << table.sizes() << " " << table.dtype();
    node.fail("file", "'" + o.file + "' must hold a numeric array [K+1, 3 or 4] (columns t, alpha, beta[, gamma]), got " +
                          shape.str());
  }
  const torch::Tensor columns = table.to(torch::kFloat64).t().contiguous();
  o.t = detail::host_values(columns[0]);
  o.alpha = detail::host_values(columns[1]);
  o.beta = detail::host_values(columns[2]);
  o.gamma = table.size(1) == 4 ? detail::host_values(columns[3]) : std::vector<double>(o.t.size(), 0.0);
}

}  // namespace

TabulatedOptions TabulatedOptions::read(config::Node& node) {
  TabulatedOptions o;
  o.file = node.get<std::string>(
      "file", "", ".npy array [K+1, 3 or 4] with columns t, alpha, beta[, gamma], instead of the lists");
  o.t = node.get<std::vector<double>>("t", {}, "grid 0 = t_0 < t_1 < ... < t_K = 1");
  o.alpha = node.get<std::vector<double>>("alpha", {}, "alpha on the grid: alpha(0) = 1, alpha(1) = 0");
  o.beta = node.get<std::vector<double>>("beta", {}, "beta on the grid: beta(0) = 0, beta(1) = 1");
  o.gamma = node.get<std::vector<double>>("gamma", {}, "gamma >= 0 on the grid, 0 at both ends; [] for zeros");
  const std::string source = node.get_choice(
      "source", "gaussian", {"gaussian", "any"},
      "gaussian: x0 ~ N(0, I) (one-sided: every prediction converts to the velocity); any: any source (two-sided)");
  o.gaussian_source = source == "gaussian";
  if (node.describing()) return o;

  const bool has_lists = !o.t.empty() || !o.alpha.empty() || !o.beta.empty() || !o.gamma.empty();
  if (!o.file.empty()) {
    if (has_lists) node.fail("file", "give either file or the lists t, alpha, beta, gamma, not both");
    read_table_file(node, o);
    const TableProblem p = table_problem(o.t, o.alpha, o.beta, o.gamma);
    if (!p.key.empty()) node.fail("file", "'" + o.file + "', column " + p.key + ": " + p.message);
  } else {
    if (o.t.empty()) node.fail("t", "missing: give the grid t with alpha, beta (and gamma), or file: schedule.npy");
    if (o.gamma.empty()) o.gamma.assign(o.t.size(), 0.0);
    const TableProblem p = table_problem(o.t, o.alpha, o.beta, o.gamma);
    if (!p.key.empty()) node.fail(p.key, p.message);
  }
  return o;
}

TabulatedPath::TabulatedPath(const torch::Tensor& t, const torch::Tensor& alpha, const torch::Tensor& beta,
                             const torch::Tensor& gamma, bool gaussian_source)
    : gaussian_source_(gaussian_source) {
  const torch::Tensor columns[] = {t, alpha, beta, gamma};
  for (int c = 0; c < 4; ++c) {
    TORCH_CHECK(columns[c].defined() && columns[c].dim() == 1, "tabulated path: ", kColumns[c], " must be [K+1], got ",
                columns[c].defined() ? columns[c].sizes() : torch::IntArrayRef{});
  }
  set_table(t, alpha, beta, gamma);
}

TabulatedPath::TabulatedPath(const TabulatedOptions& options)
    : TabulatedPath(to_tensor(options.t), to_tensor(options.alpha), to_tensor(options.beta),
                    to_tensor(options.gamma.empty() ? std::vector<double>(options.t.size(), 0.0) : options.gamma),
                    options.gaussian_source) {}

void TabulatedPath::set_table(const torch::Tensor& t, const torch::Tensor& alpha, const torch::Tensor& beta,
                              const torch::Tensor& gamma) {
  std::vector<double> tv = detail::host_values(t), av = detail::host_values(alpha), bv = detail::host_values(beta), gv = detail::host_values(gamma);
  const TableProblem p = table_problem(tv, av, bv, gv);
  if (!p.key.empty()) throw Error("tabulated path: " + p.key + ": " + p.message);
  snap_endpoints(av, bv, gv);
  t_ = to_tensor(tv);
  cubics_ = {MonotoneCubic(t_, to_tensor(av)), MonotoneCubic(t_, to_tensor(bv)), MonotoneCubic(t_, to_tensor(gv))};
  deterministic_ = true;
  for (double g : gv) deterministic_ = deterministic_ && g == 0.0;
}

Coefficients TabulatedPath::at(const torch::Tensor& t) const {
  const MonotoneCubic::Evaluation alpha = cubics_[0].evaluate(t), beta = cubics_[1].evaluate(t),
                                  gamma = cubics_[2].evaluate(t);
  return {alpha.value,      beta.value,       gamma.value, alpha.derivative, beta.derivative, gamma.derivative,
          gamma.value * gamma.derivative};
}

std::vector<std::pair<std::string, torch::Tensor>> TabulatedPath::state() const {
  return {{"t", t_.clone()},
          {"alpha", cubics_[0].values().clone()},
          {"beta", cubics_[1].values().clone()},
          {"gamma", cubics_[2].values().clone()}};
}

void TabulatedPath::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  const std::string expected = "expected exactly t, alpha, beta, gamma";
  if (state.size() != 4) throw Error("tabulated path state: " + std::to_string(state.size()) + " tensors, " + expected);
  torch::Tensor columns[4];
  for (const auto& [name, tensor] : state) {
    int c = 0;
    while (c < 4 && name != kColumns[c]) ++c;
    if (c == 4) throw Error("tabulated path state: unknown tensor '" + name + "', " + expected);
    if (columns[c].defined()) throw Error("tabulated path state: '" + name + "' appears twice, " + expected);
    if (!tensor.defined() || tensor.sizes() != t_.sizes()) {
      std::ostringstream found;
      if (tensor.defined()) found << tensor.sizes();
      else found << "an undefined tensor";
      throw Error("tabulated path state: '" + name + "' must have this path's shape [" + std::to_string(t_.size(0)) +
                  "], got " + found.str());
    }
    columns[c] = tensor;
  }
  set_table(columns[0], columns[1], columns[2], columns[3]);
}

}  // namespace flowlab::paths
