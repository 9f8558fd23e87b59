#include "flowlab/nn/model.h"

#include <torch/torch.h>

namespace flowlab::nn {

ModelOptions ModelOptions::read(config::Node& node) {
  ModelOptions o;
  const std::string first = node.get_choice("predicts", std::string("velocity"), paths::prediction_names(),
                                            "what the (first) output means");
  std::vector<std::string> second_choices{"none"};
  for (const auto& name : paths::prediction_names()) {
    if (name != first) second_choices.push_back(name);
  }
  const std::string second =
      node.get_choice("also_predicts", std::string("none"), second_choices, "a second field trained with the first");
  o.predicts = {paths::parse_prediction(first)};
  if (second != "none") o.predicts.push_back(paths::parse_prediction(second));
  const std::string heads = node.get_choice("heads", std::string("separate"), {"separate", "shared"},
                                            "two fields: separate networks, or one trunk with two output heads");
  o.shared_heads = heads == "shared";
  return o;
}

Model::Model(config::Node& node, const SampleShape& shape) : options_(ModelOptions::read(node)) {
  const auto fields = static_cast<int64_t>(options_.predicts.size());
  if (fields == 1 || options_.shared_heads) {
    networks_.push_back(register_module("network", std::shared_ptr<Network>(network_registry().create(node, shape, fields))));
  } else {
    // The second network has the same architecture: build it from a copy of the section.
    config::Node second = node.clone();
    ModelOptions::read(second);  // marks the model keys read in the copy too
    networks_.push_back(register_module("network", std::shared_ptr<Network>(network_registry().create(node, shape, 1))));
    networks_.push_back(register_module("second", std::shared_ptr<Network>(network_registry().create(second, shape, 1))));
  }
}

Model::Model(std::vector<std::shared_ptr<Network>> networks, ModelOptions options) : options_(std::move(options)) {
  const auto fields = static_cast<int64_t>(options_.predicts.size());
  const bool one = networks.size() == 1 && networks[0]->outputs() == fields;
  const bool per_field = static_cast<int64_t>(networks.size()) == fields && fields > 1;
  TORCH_CHECK(fields >= 1 && (one || per_field), "model: ", networks.size(), " networks do not serve ", fields,
              " fields");
  for (std::size_t i = 0; i < networks.size(); ++i) {
    if (per_field) TORCH_CHECK(networks[i]->outputs() == 1, "model: network ", i, " must have one output");
    networks_.push_back(register_module(i == 0 ? "network" : "second", networks[i]));
  }
}

paths::Predictions Model::forward(const torch::Tensor& x, const torch::Tensor& t) {
  paths::Predictions out;
  if (networks_.size() == 1) {
    const torch::Tensor y = networks_[0]->forward(x, t);
    const auto parts = y.chunk(static_cast<int64_t>(options_.predicts.size()), 1);
    for (std::size_t i = 0; i < parts.size(); ++i) out.emplace_back(options_.predicts[i], parts[i]);
  } else {
    for (std::size_t i = 0; i < networks_.size(); ++i) out.emplace_back(options_.predicts[i], networks_[i]->forward(x, t));
  }
  return out;
}

}  // namespace flowlab::nn
