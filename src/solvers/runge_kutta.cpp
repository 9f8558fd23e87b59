#include "flowlab/solvers/runge_kutta.h"

#include <torch/torch.h>

namespace flowlab::solvers {
namespace {

// h [B] as a tensor that broadcasts against x [B, ...], in x's dtype.
torch::Tensor broadcast_over_state(const torch::Tensor& h, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = h.size(0);
  return h.to(x.scalar_type()).view(shape);
}

// sum_i weights[i] * stages[i], skipping zero weights; undefined when all are zero.
torch::Tensor weighted_sum(const std::vector<double>& weights, const std::vector<torch::Tensor>& stages) {
  torch::Tensor sum;
  for (size_t i = 0; i < weights.size() && i < stages.size(); ++i) {
    if (weights[i] == 0.0) continue;
    sum = sum.defined() ? sum.add(stages[i], weights[i]) : stages[i] * weights[i];
  }
  return sum;
}

}  // namespace

const ButcherTableau& euler_tableau() {
  static const ButcherTableau tableau{"euler", 1, {0.0}, {{}}, {1.0}, {}};
  return tableau;
}

const ButcherTableau& midpoint_tableau() {
  static const ButcherTableau tableau{"midpoint", 2, {0.0, 0.5}, {{}, {0.5}}, {0.0, 1.0}, {}};
  return tableau;
}

const ButcherTableau& heun_tableau() {
  static const ButcherTableau tableau{"heun", 2, {0.0, 1.0}, {{}, {1.0}}, {0.5, 0.5}, {}};
  return tableau;
}

const ButcherTableau& rk4_tableau() {
  static const ButcherTableau tableau{"rk4",
                                     4,
                                     {0.0, 0.5, 0.5, 1.0},
                                     {{}, {0.5}, {0.0, 0.5}, {0.0, 0.0, 1.0}},
                                     {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
                                     {}};
  return tableau;
}

const ButcherTableau& dormand_prince_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "dopri5";
    t.order = 5;
    t.c = {0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
    t.a = {{},
           {1.0 / 5},
           {3.0 / 40, 9.0 / 40},
           {44.0 / 45, -56.0 / 15, 32.0 / 9},
           {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
           {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
           {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
    t.b = {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0.0};
    const std::vector<double> b4 = {5179.0 / 57600,     0.0,           7571.0 / 16695, 393.0 / 640,
                                    -92097.0 / 339200, 187.0 / 2100, 1.0 / 40};
    for (size_t i = 0; i < t.b.size(); ++i) t.error_weights.push_back(t.b[i] - b4[i]);
    return t;
  }();
  return tableau;
}

const std::vector<const ButcherTableau*>& fixed_step_tableaux() {
  static const std::vector<const ButcherTableau*> tableaux = {&euler_tableau(), &midpoint_tableau(),
                                                              &heun_tableau(), &rk4_tableau()};
  return tableaux;
}

torch::Tensor evaluate_field(const Field& field, const torch::Tensor& x, const torch::Tensor& t) {
  torch::Tensor velocity = field(x, t);
  TORCH_CHECK(velocity.defined(), "solver: the field returned an undefined tensor for state of shape ",
              x.sizes());
  TORCH_CHECK(velocity.sizes() == x.sizes(), "solver: the field returned shape ", velocity.sizes(),
              " for state of shape ", x.sizes(), " (time of shape ", t.sizes(), ")");
  // A network under autocast may answer in half precision; the state keeps x's dtype.
  return velocity.scalar_type() == x.scalar_type() ? velocity : velocity.to(x.scalar_type());
}

std::vector<torch::Tensor> runge_kutta_stages(const ButcherTableau& tableau, const Field& field,
                                              const torch::Tensor& x, const torch::Tensor& t,
                                              const torch::Tensor& h, const torch::Tensor& first_stage) {
  const torch::Tensor h_state = broadcast_over_state(h, x);
  std::vector<torch::Tensor> stages;
  stages.reserve(static_cast<size_t>(tableau.stages()));
  for (int i = 0; i < tableau.stages(); ++i) {
    if (i == 0 && first_stage.defined()) {
      stages.push_back(first_stage);
      continue;
    }
    const torch::Tensor increment = weighted_sum(tableau.a[static_cast<size_t>(i)], stages);
    const torch::Tensor x_stage = increment.defined() ? x + h_state * increment : x;
    const double c = tableau.c[static_cast<size_t>(i)];
    const torch::Tensor t_stage = c == 0.0 ? t : t + c * h;
    stages.push_back(evaluate_field(field, x_stage, t_stage.to(x.scalar_type())));
  }
  return stages;
}

torch::Tensor runge_kutta_increment(const torch::Tensor& h, const std::vector<double>& weights,
                                    const std::vector<torch::Tensor>& stages) {
  TORCH_CHECK(!stages.empty(), "runge_kutta_increment: no stages");
  const torch::Tensor sum = weighted_sum(weights, stages);
  if (!sum.defined()) return torch::zeros_like(stages.front());
  return broadcast_over_state(h, sum) * sum;
}

}  // namespace flowlab::solvers
