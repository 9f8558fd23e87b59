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
//     num_classes: 0         # > 0 (or auto: the data's): class-conditional fields
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
  /// One output per field, each shaped like x, paired with what it predicts; a conditional
  /// model reads `condition` (empty: its unconditional fields).
  paths::Predictions forward(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition = {});
  const std::vector<paths::Prediction>& predictions() const { return options_.predicts; }
  /// The first network's trunk features at (x, t, condition) (Network::features).
  torch::Tensor features(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition = {});
  /// Classes of a class-conditional model; 0 when unconditional.
  int64_t num_classes() const { return networks_.front()->num_classes(); }

 private:
  ModelOptions options_;
  std::vector<std::shared_ptr<Network>> networks_;
};

/// Makes `model.num_classes` concrete before the model is built: `auto` becomes the data's number
/// of classes; a conditional model needs labelled data with that many classes (ConfigError
/// otherwise). `data_classes` is 0 for unlabelled data.
void resolve_num_classes(config::Node& model_node, int64_t data_classes);

}  // namespace flowlab::nn
