#include "flowlab/train/fit.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/train/optimizer.h"

namespace flowlab::train {

void fit_module(torch::nn::Module& module, const std::function<torch::Tensor(int64_t step)>& loss,
                const FitOptions& options) {
  TORCH_CHECK(options.steps >= 1 && options.lr > 0 && options.grad_clip >= 0,
              "fit: steps >= 1, lr > 0 and grad_clip >= 0 are needed");
  register_builtin_training();
  const std::vector<torch::Tensor> parameters = module.parameters();
  char lr[40];
  std::snprintf(lr, sizeof(lr), "%.17g", options.lr);
  config::Node adam = config::Node::parse(std::string("{type: adam, lr: ") + lr + "}", "fit");
  const auto optimizer = optimizer_registry().create(adam, parameters);
  config::Node cosine = config::Node::parse("{type: cosine}", "fit");
  const auto schedule = schedule_registry().create(cosine);
  const double max_norm = options.grad_clip > 0 ? options.grad_clip : std::numeric_limits<double>::infinity();
  for (int64_t step = 0; step < options.steps; ++step) {
    set_learning_rate(*optimizer, options.lr * schedule->factor(step, options.steps));
    const torch::Tensor value = loss(step);
    if (!std::isfinite(value.item<double>())) {
      throw Error("fit: the loss is not finite at step " + std::to_string(step + 1));
    }
    gradient_step(*optimizer, parameters, value, max_norm);
  }
}

}  // namespace flowlab::train
