#include "flowlab/nn/affine_stack.h"

#include <torch/torch.h>

#include "flowlab/core/precision.h"
#include "flowlab/nn/mlp.h"

namespace flowlab::nn {
namespace {

// d act(pre) / d pre applied to the incoming gradient, with the ATen backward kernels
// autograd itself uses.
torch::Tensor activation_backward(const std::string& name, const torch::Tensor& grad, const torch::Tensor& pre) {
  if (name == "silu") return at::silu_backward(grad, pre);
  if (name == "relu") return at::threshold_backward(grad, pre, 0);
  if (name == "gelu") return at::gelu_backward(grad, pre);
  if (name == "tanh") return at::tanh_backward(grad, torch::tanh(pre));
  return at::softplus_backward(grad, pre, 1, 20);  // torch::softplus's defaults
}

// The activation written over h (no autograd: nothing keeps the pre-activation).
torch::Tensor activate_in_place(const std::string& name, torch::Tensor h) {
  if (name == "silu") return torch::silu_(h);
  if (name == "relu") return h.relu_();
  if (name == "tanh") return h.tanh_();
  return activate(name, h);
}

// The stack with ordinary operations (overwriting each layer's output when `in_place`: only
// without autograd, and not when `saved`, given, must keep each layer's input and pre-activation).
torch::Tensor run_stack(const torch::Tensor& input, const std::vector<torch::Tensor>& parameters,
                        const std::vector<bool>& activated, const std::vector<bool>& residual,
                        const std::string& activation, bool in_place, std::vector<torch::Tensor>* saved) {
  torch::Tensor h = input;
  for (std::size_t k = 0; k < activated.size(); ++k) {
    const torch::Tensor pre = torch::addmm(parameters[2 * k + 1], h, parameters[2 * k].t());
    torch::Tensor out = !activated[k] ? pre : in_place ? activate_in_place(activation, pre) : activate(activation, pre);
    if (residual[k]) out = in_place ? out.add_(h) : out + h;
    if (saved) {
      saved->push_back(h);
      saved->push_back(pre);
    }
    h = out;
  }
  return h;
}

c10::List<bool> bool_list(const std::vector<bool>& values) {
  c10::List<bool> list;
  for (bool v : values) list.push_back(v);
  return list;
}

struct AffineStackFunction : torch::autograd::Function<AffineStackFunction> {
  // tensors = [input, W_0, b_0, W_1, b_1, ...]
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, at::TensorList tensors,
                               std::vector<bool> activated, std::vector<bool> residual, std::string activation) {
    const std::vector<torch::Tensor> parameters(tensors.begin() + 1, tensors.end());
    std::vector<torch::Tensor> saved(tensors.begin(), tensors.end());
    const torch::Tensor out = run_stack(tensors[0], parameters, activated, residual, activation, false, &saved);
    ctx->save_for_backward(saved);
    std::vector<bool> needs(tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) needs[i] = tensors[i].requires_grad();
    ctx->saved_data["needs"] = bool_list(needs);
    ctx->saved_data["activated"] = bool_list(activated);
    ctx->saved_data["residual"] = bool_list(residual);
    ctx->saved_data["activation"] = activation;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto needs_list = ctx->saved_data["needs"].toBoolList();
    const auto activated_list = ctx->saved_data["activated"].toBoolList();
    const auto residual_list = ctx->saved_data["residual"].toBoolList();
    const std::string activation = ctx->saved_data["activation"].toStringRef();
    const std::vector<bool> needs(needs_list.begin(), needs_list.end());
    const std::vector<bool> activated(activated_list.begin(), activated_list.end());
    const std::vector<bool> residual(residual_list.begin(), residual_list.end());
    const std::size_t count = needs.size(), layers = activated.size();
    // Three further entries (activated, residual, activation) are not tensors: no gradient.
    torch::autograd::variable_list grads(count + 3);
    torch::Tensor g = grad_outputs[0];
    if (!g.defined()) return grads;

    if (torch::GradMode::is_enabled()) {
      // create_graph: differentiate the stack rebuilt with autograd from the saved inputs.
      std::vector<torch::Tensor> inputs(saved.begin(), saved.begin() + static_cast<std::ptrdiff_t>(count)), wrt;
      std::vector<std::size_t> index;
      for (std::size_t i = 0; i < count; ++i) {
        if (needs[i]) {
          wrt.push_back(inputs[i]);
          index.push_back(i);
        }
      }
      const std::vector<torch::Tensor> parameters(inputs.begin() + 1, inputs.end());
      const torch::Tensor out = run_stack(inputs[0], parameters, activated, residual, activation, false, nullptr);
      const auto found = torch::autograd::grad({out}, wrt, {g}, true, true, true);
      for (std::size_t j = 0; j < index.size(); ++j) grads[index[j]] = found[j];
      return grads;
    }

    for (std::size_t k = layers; k-- > 0;) {
      const torch::Tensor& h = saved[count + 2 * k];
      const torch::Tensor& pre = saved[count + 2 * k + 1];
      const torch::Tensor& weight = saved[1 + 2 * k];
      const torch::Tensor g_pre = activated[k] ? activation_backward(activation, g, pre) : g;
      if (needs[1 + 2 * k]) grads[1 + 2 * k] = g_pre.t().mm(h);  // [out, in], contiguous
      if (needs[2 + 2 * k]) grads[2 + 2 * k] = g_pre.sum(0);
      if (k == 0 && !needs[0]) break;
      torch::Tensor g_in = g_pre.mm(weight);
      if (residual[k]) g_in.add_(g);
      g = g_in;
    }
    if (needs[0]) grads[0] = g;
    return grads;
  }
};

}  // namespace

torch::Tensor affine_stack(const torch::Tensor& input, const std::vector<AffineLayer>& layers,
                           const std::string& activation, bool one_node) {
  std::vector<torch::Tensor> tensors{input};
  std::vector<bool> activated, residual;
  bool any_grad = input.requires_grad();
  for (const AffineLayer& layer : layers) {
    tensors.push_back(layer.weight);
    tensors.push_back(layer.bias);
    activated.push_back(layer.activated);
    residual.push_back(layer.residual);
    any_grad = any_grad || layer.weight.requires_grad() || layer.bias.requires_grad();
  }
  // Under autocast the ordinary operations cast (and record the casts for backward); the one
  // node's hand-written backward assumes one dtype.
  if (!one_node || !torch::GradMode::is_enabled() || !any_grad || autocast_enabled(input.device())) {
    std::vector<torch::Tensor> parameters(tensors.begin() + 1, tensors.end());
    return run_stack(input, parameters, activated, residual, activation, !torch::GradMode::is_enabled(), nullptr);
  }
  return AffineStackFunction::apply(at::TensorList(tensors), activated, residual, activation);
}

}  // namespace flowlab::nn
