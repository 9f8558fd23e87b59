#pragma once
// Networks map (x [B, ...], t [B]) to a tensor shaped like x. What the output
// means (velocity, noise, ...) is the network's `prediction()`; the path
// converts it into velocity, score or data estimates.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "flowlab/core/registry.h"
#include "flowlab/paths/prediction.h"

namespace flowlab::nn {

class Network : public torch::nn::Module {
 public:
  explicit Network(paths::Prediction prediction) : prediction_(prediction) {}
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t) = 0;
  paths::Prediction prediction() const { return prediction_; }

 private:
  paths::Prediction prediction_;
};

/// Shape of one data sample, e.g. {2} or {1, 28, 28}.
using SampleShape = std::vector<int64_t>;

/// The "networks" family (the `model:` section).
Registry<Network, const SampleShape&>& network_registry();
void register_builtin_networks();

/// Builds the network of a `model:` section for data of `shape`.
std::shared_ptr<Network> make_network(config::Node& model, const SampleShape& shape);

}  // namespace flowlab::nn
