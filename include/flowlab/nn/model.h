#pragma once
// A model: the network(s) of a run and what each output predicts. One field
// (velocity, noise, data, denoiser, score or interpolant_velocity), or two
// trained together, e.g. velocity and score so that SDE sampling works on a
// two-sided path, as two networks or as two heads on one trunk.
//
//   model:
//     type: mlp              # the network (see `flowlab list networks`)
//     predicts: velocity     # the first field
//     also_predicts: score   # none (default) or a second field
//     heads: separate        # separate networks, or shared: one trunk, two output heads
#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/nn/network.h"
#include "flowlab/paths/path.h"

namespace flowlab::nn {

struct ModelOptions {
  std::vector<paths::Prediction> predicts{paths::Prediction::kVelocity};
  bool shared_heads = false;
  /// Reads predicts, also_predicts and heads from a `model:` section.
  static ModelOptions read(config::Node& node);
};

class Model : public torch::nn::Module {
 public:
  /// Builds the network(s) of a `model:` section for data of `shape`.
  Model(config::Node& node, const SampleShape& shape);
  /// A model from networks built elsewhere: one network with predicts.size() outputs, or one
  /// single-output network per field.
  Model(std::vector<std::shared_ptr<Network>> networks, ModelOptions options);
  /// One output per field, each shaped like x, paired with what it predicts.
  paths::Predictions forward(const torch::Tensor& x, const torch::Tensor& t);
  const std::vector<paths::Prediction>& predictions() const { return options_.predicts; }

 private:
  ModelOptions options_;
  std::vector<std::shared_ptr<Network>> networks_;
};

}  // namespace flowlab::nn
