#pragma once
// Optimizers and learning-rate schedules (the `train.optimizer` and
// `train.schedule` sections).
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "flowlab/core/registry.h"

namespace flowlab::distributed {
class GradientReducer;
}

namespace flowlab::train {

/// The "optimizers" family: adam, adamw. Factories take the parameters to optimise.
Registry<torch::optim::Optimizer, std::vector<torch::Tensor>>& optimizer_registry();

/// Multiplier of the base learning rate at a step.
class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  /// Factor in [0, 1] at `step` (0-based) of `total` steps.
  virtual double factor(int64_t step, int64_t total) const = 0;
};

/// The "schedules" family: constant, warmup, cosine.
Registry<LrSchedule>& schedule_registry();

/// The optimizer and learning-rate schedule of a `train:` section (train.optimizer, default
/// type adamw; train.schedule, default constant), over `parameters`.
struct OptimizerWithSchedule {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<LrSchedule> schedule;
};
OptimizerWithSchedule build_optimizer(config::Node& train_node, std::vector<torch::Tensor> parameters);

/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);
/// The learning rate of the first parameter group.
double learning_rate(const torch::optim::Optimizer& optimizer);

/// Scales the gradients of `parameters` so that their global 2-norm is at most `max_norm`
/// (torch::nn::utils::clip_grad_norm_'s rule: factor max_norm / (norm + 1e-6) when below 1;
/// infinity: no clipping); returns the norm before clipping, a 0-dim tensor on the gradients'
/// device (nothing is read back to the host). Gradients are packed into one buffer when all are
/// defined (flat_parameters.h), so this is one reduction and one scaling.
torch::Tensor clip_gradient_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

/// One update from `loss`: zero the gradients, backpropagate, clip the global gradient norm of
/// `parameters` to `max_norm` (infinity: no clipping), step. Returns the norm before clipping.
/// With a `reducer` (data-parallel training), the gradients are averaged over the processes
/// between backpropagation and clipping.
torch::Tensor gradient_step(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters,
                            const torch::Tensor& loss, double max_norm,
                            distributed::GradientReducer* reducer = nullptr, float vote = 0);

void register_builtin_training();

}  // namespace flowlab::train
