// Likelihood by the backward ODE with exact or Hutchinson divergence.
//
// The solver integrates one augmented float64 state per sample:
//   columns [0, d)        the state x, flattened
//   columns [d, d + k)    the divergence integrals (k = 1 exact, k = probes Hutchinson)
//   column  d + k         Hutchinson only: a row tag naming the sample
// The divergence columns take part in the solver's error norm, so an adaptive
// solver controls the error of the log-density as well as that of X_t. The norm
// is an RMS over all d + k columns, so in high dimension one integral may carry
// up to about sqrt(d + k) tolerances of error: small next to a total in nats.
#include "flowlab/solvers/likelihood.h"

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab::solvers {
namespace {

// Adaptive solvers call the field on a subset of rows, so each Hutchinson row
// carries its sample index to find its own probes. The tag (index + 1) * 2^-40
// has a zero derivative, so every Runge-Kutta step keeps it bit for bit; it is
// never 0 (a zero state with atol = 0 would make the error norm 0/0) and so
// small that it barely moves the initial-step heuristics.
constexpr int kTagExponent = 40;

constexpr double kLogTwoPi = 1.8378770664093453;  // log(2 pi)

double tag_scale() { return std::ldexp(1.0, -kTagExponent); }

bool is_one_of(const std::string& value, const std::vector<std::string>& choices) {
  for (const std::string& choice : choices) {
    if (choice == value) return true;
  }
  return false;
}

void check_options(const LikelihoodOptions& options) {
  auto fail = [](const std::string& what) { throw Error("log_likelihood: " + what); };
  if (!is_one_of(options.divergence, divergence_estimators())) {
    fail(unknown_name("divergence estimator", options.divergence, divergence_estimators()));
  }
  if (!is_one_of(options.probe, probe_distributions())) {
    fail(unknown_name("probe distribution", options.probe, probe_distributions()));
  }
  if (options.probes < 1) fail("probes must be >= 1, got " + std::to_string(options.probes));
  if (!std::isfinite(options.t_start) || !std::isfinite(options.t_end) || options.t_start == options.t_end) {
    fail("t_start and t_end must be finite and different, got " + std::to_string(options.t_start) + " and " +
         std::to_string(options.t_end));
  }
}

// Probes [B, k, d] in x's dtype and device: Rademacher (+-1) or standard normal,
// drawn on the CPU from `gen` so that results do not depend on the device.
torch::Tensor draw_probes(const std::string& distribution, int64_t batch, int64_t probes, int64_t dim,
                          at::Generator& gen, const torch::TensorOptions& options) {
  TORCH_CHECK(gen.device().is_cpu(), "log_likelihood: Hutchinson probes are drawn with a CPU generator, got one on ",
              gen.device());
  const auto cpu = torch::TensorOptions().dtype(torch::kDouble);
  torch::Tensor eps = distribution == "gaussian"
                          ? torch::randn({batch, probes, dim}, gen, cpu)
                          : torch::randint(2, {batch, probes, dim}, gen, cpu).mul_(2.0).sub_(1.0);
  return eps.to(options);
}

// The right-hand side of the augmented ODE: (b, div b estimates, 0 for the tag).
class AugmentedField {
 public:
  AugmentedField(const RowField& velocity, std::vector<int64_t> sample_shape, int64_t dim, int64_t columns,
                 torch::ScalarType dtype, torch::Tensor probes)
      : velocity_(velocity),
        sample_shape_(std::move(sample_shape)),
        dim_(dim),
        columns_(columns),
        dtype_(dtype),
        probes_(std::move(probes)) {}

  torch::Tensor operator()(const torch::Tensor& state, const torch::Tensor& t, const torch::Tensor& rows) const {
    const int64_t n = state.size(0);
    // The divergence needs autograd whatever the caller (or the solver) chose;
    // every result below is detached, so no graph spans two evaluations.
    torch::AutoGradMode grad_on(true);
    std::vector<int64_t> shape = {n};
    shape.insert(shape.end(), sample_shape_.begin(), sample_shape_.end());
    const torch::Tensor x = state.narrow(1, 0, dim_).to(dtype_).reshape(shape).detach().requires_grad_(true);
    const torch::Tensor velocity = velocity_(x, t.to(dtype_), rows);
    TORCH_CHECK(velocity.defined(), "log_likelihood: the velocity field returned an undefined tensor for x of shape ",
                x.sizes());
    TORCH_CHECK(velocity.sizes() == x.sizes(), "log_likelihood: the velocity field returned shape ",
                velocity.sizes(), " for x of shape ", x.sizes());
    const torch::Tensor flat = velocity.reshape({n, dim_});

    const torch::Tensor divergence = probes_.defined() ? hutchinson(flat, x, rows_probes(state)) : exact(flat, x);
    std::vector<torch::Tensor> parts = {flat.detach().to(torch::kDouble), divergence.detach().to(torch::kDouble)};
    const int64_t used = dim_ + divergence.size(1);
    if (used < columns_) parts.push_back(torch::zeros({n, columns_ - used}, state.options()));
    return torch::cat(parts, 1);
  }

 private:
  // sum_i d b_i / d x_i, one vector-Jacobian product per coordinate. Rows are
  // independent, so the product with a basis column summed over rows gives
  // every row's Jacobian row at once. Returns [n, 1].
  torch::Tensor exact(const torch::Tensor& flat, const torch::Tensor& x) const {
    const int64_t n = flat.size(0);
    torch::Tensor divergence = torch::zeros({n}, flat.options().requires_grad(false));
    // A field that ignores x (or detaches) has no graph: its divergence is 0.
    if (!flat.requires_grad()) return divergence.unsqueeze(1);
    const torch::Tensor ones = torch::ones({n}, flat.options().requires_grad(false));
    for (int64_t i = 0; i < dim_; ++i) {
      const torch::Tensor row = vector_jacobian(flat.select(1, i), x, ones, i + 1 < dim_);
      if (row.defined()) divergence += row.reshape({n, dim_}).select(1, i).detach();
    }
    return divergence.unsqueeze(1);
  }

  // eps^T J eps for each probe eps of each row: probes [n, k, d] -> [n, k].
  torch::Tensor hutchinson(const torch::Tensor& flat, const torch::Tensor& x, const torch::Tensor& probes) const {
    const int64_t n = flat.size(0);
    const int64_t k = probes.size(1);
    if (!flat.requires_grad()) return torch::zeros({n, k}, flat.options().requires_grad(false));
    std::vector<torch::Tensor> estimates;
    estimates.reserve(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) {
      const torch::Tensor eps = probes.select(1, j).to(flat.scalar_type());
      const torch::Tensor eps_jacobian = vector_jacobian(flat, x, eps, j + 1 < k);
      estimates.push_back(eps_jacobian.defined() ? (eps_jacobian.reshape({n, dim_}).detach() * eps).sum(1)
                                                 : torch::zeros({n}, eps.options()));
    }
    return torch::stack(estimates, 1);
  }

  // grad_x <weights, output>, or undefined when output does not depend on x.
  static torch::Tensor vector_jacobian(const torch::Tensor& output, const torch::Tensor& x,
                                       const torch::Tensor& weights, bool retain_graph) {
    return torch::autograd::grad({output}, {x}, {weights}, retain_graph, /*create_graph=*/false,
                                 /*allow_unused=*/true)[0];
  }

  // The probes of the rows in `state`, found through their tags.
  torch::Tensor rows_probes(const torch::Tensor& state) const {
    const torch::Tensor tags = state.select(1, columns_ - 1);
    const torch::Tensor index = (tags * std::ldexp(1.0, kTagExponent)).round().to(torch::kLong) - 1;
    return probes_.index_select(0, index.to(probes_.device()));
  }

  const RowField& velocity_;
  std::vector<int64_t> sample_shape_;
  int64_t dim_;
  int64_t columns_;
  torch::ScalarType dtype_;
  torch::Tensor probes_;  // [B, k, d]; undefined for exact divergence
};

}  // namespace

const std::vector<std::string>& divergence_estimators() {
  static const std::vector<std::string> names = {"exact", "hutchinson"};
  return names;
}

const std::vector<std::string>& probe_distributions() {
  static const std::vector<std::string> names = {"rademacher", "gaussian"};
  return names;
}

LikelihoodOptions LikelihoodOptions::read(config::Node& node) {
  LikelihoodOptions o;
  o.divergence = node.get_choice("divergence", o.divergence, divergence_estimators(),
                                 "exact: d vector-Jacobian products per evaluation; hutchinson: one per probe");
  o.probes = node.get<int64_t>("probes", o.probes, "hutchinson: probe vectors per sample, fixed along the path");
  node.expect(o.probes >= 1, "probes", "an integer >= 1");
  o.probe = node.get_choice("probe", o.probe, probe_distributions(), "hutchinson: probe distribution");
  o.solver = node.get<std::string>("solver", o.solver, "ODE solver (see `flowlab list solvers`)");
  o.solver_options = SolverOptions::read(node);
  if (!node.describing()) {
    try {
      make_solver(o.solver, o.solver_options);
    } catch (const Error& e) {
      node.fail("solver", e.what());
    }
  }
  o.t_start = node.get<double>("t_start", o.t_start, "time of the data (the backward solve starts here)");
  node.expect(std::isfinite(o.t_start), "t_start", "a finite number");
  o.t_end = node.get<double>("t_end", o.t_end, "time of the source density (the solve ends here)");
  node.expect(std::isfinite(o.t_end) && o.t_end != o.t_start, "t_end", "a finite number other than t_start");
  return o;
}

LogLikelihood log_likelihood(const Field& velocity, const LogDensity& source_log_prob, const torch::Tensor& x,
                             const LikelihoodOptions& options, at::Generator& gen) {
  const RowField any_rows = [&velocity](const torch::Tensor& y, const torch::Tensor& t, const torch::Tensor&) {
    return velocity(y, t);
  };
  return log_likelihood(any_rows, source_log_prob, x, options, gen);
}

LogLikelihood log_likelihood(const RowField& velocity, const LogDensity& source_log_prob, const torch::Tensor& x,
                             const LikelihoodOptions& options, at::Generator& gen) {
  check_options(options);
  TORCH_CHECK(x.defined() && x.dim() >= 1 && x.is_floating_point(),
              "log_likelihood: x must be a floating-point batch [B, ...], got ",
              x.defined() ? c10::str(x.scalar_type(), " of shape ", x.sizes()) : std::string("an undefined tensor"));
  // Autograd is unavailable in inference mode; the divergences need it.
  c10::InferenceMode inference_off(false);

  const int64_t batch = x.size(0);
  const std::vector<int64_t> sample_shape(x.sizes().begin() + 1, x.sizes().end());
  int64_t dim = 1;
  for (int64_t size : sample_shape) dim *= size;
  const bool hutchinson = options.divergence == "hutchinson";
  const int64_t integrals = hutchinson ? options.probes : 1;
  const int64_t columns = dim + integrals + (hutchinson ? 1 : 0);
  const auto state_options = x.options().dtype(torch::kDouble);

  LogLikelihood result;
  if (batch == 0) {
    result.log_prob = torch::zeros({0}, state_options);
    result.std_error = torch::zeros({0}, state_options);
    result.divergence_integral = torch::zeros({0}, state_options);
    result.source_point = x.detach().clone();
    return result;
  }

  torch::Tensor probes;
  std::vector<torch::Tensor> initial = {x.detach().reshape({batch, dim}).to(torch::kDouble),
                                        torch::zeros({batch, integrals}, state_options)};
  if (hutchinson) {
    probes = draw_probes(options.probe, batch, options.probes, dim, gen, x.options().requires_grad(false));
    initial.push_back((torch::arange(1, batch + 1, state_options) * tag_scale()).unsqueeze(1));
  }
  const torch::Tensor state0 = torch::cat(initial, 1);

  SolverOptions solver_options = options.solver_options;
  solver_options.enable_grad = false;
  const std::unique_ptr<Solver> solver = make_solver(options.solver, solver_options);
  const AugmentedField augmented(velocity, sample_shape, dim, columns, x.scalar_type(), probes);
  const SolveResult solved = solver->integrate_rows(
      [&augmented](const torch::Tensor& state, const torch::Tensor& t, const torch::Tensor& rows) {
        return augmented(state, t, rows);
      },
      state0, options.t_start, options.t_end);

  torch::NoGradGuard no_grad;
  const torch::Tensor end = solved.x.detach();
  result.source_point = end.narrow(1, 0, dim).to(x.scalar_type()).reshape(x.sizes());
  const torch::Tensor source = source_log_prob(result.source_point);
  TORCH_CHECK(source.defined() && source.dim() == 1 && source.size(0) == batch,
              "log_likelihood: the source log-density must return [", batch, "] for x of shape ",
              result.source_point.sizes(), ", got ",
              source.defined() ? c10::str(source.sizes()) : std::string("an undefined tensor"));

  const torch::Tensor per_probe = end.narrow(1, dim, integrals);  // [B, k]
  result.divergence_integral = per_probe.mean(1);
  result.log_prob = source.detach().to(state_options) + result.divergence_integral;
  if (!hutchinson) {
    result.std_error = torch::zeros({batch}, state_options);
  } else if (integrals == 1) {
    result.std_error = torch::full({batch}, std::numeric_limits<double>::quiet_NaN(), state_options);
  } else {
    const torch::Tensor centred = per_probe - result.divergence_integral.unsqueeze(1);
    const double k = static_cast<double>(integrals);
    // Sample variance over the probes (k - 1 degrees of freedom), then / k for the mean.
    result.std_error = (centred.pow(2).sum(1) / ((k - 1.0) * k)).sqrt();
  }
  result.nfe = solved.nfe;
  return result;
}

torch::Tensor standard_normal_log_prob(const torch::Tensor& x) {
  TORCH_CHECK(x.defined() && x.dim() >= 1, "standard_normal_log_prob: x must be a batch [B, ...], got ",
              x.defined() ? c10::str(x.sizes()) : std::string("an undefined tensor"));
  int64_t dim = 1;
  for (int64_t i = 1; i < x.dim(); ++i) dim *= x.size(i);
  const torch::Tensor flat = x.reshape({x.size(0), dim}).to(torch::kDouble);
  return -0.5 * flat.pow(2).sum(1) - 0.5 * static_cast<double>(dim) * kLogTwoPi;
}

double bits_per_dim(double nats, int64_t dim) {
  TORCH_CHECK(dim >= 1, "bits_per_dim: dim must be >= 1, got ", dim);
  return nats / (static_cast<double>(dim) * std::log(2.0));
}

}  // namespace flowlab::solvers
