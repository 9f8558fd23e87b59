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

paths::Predictions Model::forward(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  paths::Predictions out;
  if (networks_.size() == 1) {
    const torch::Tensor y = networks_[0]->forward(x, t, condition);
    const auto parts = y.chunk(static_cast<int64_t>(options_.predicts.size()), 1);
    for (std::size_t i = 0; i < parts.size(); ++i) out.emplace_back(options_.predicts[i], parts[i]);
  } else {
    for (std::size_t i = 0; i < networks_.size(); ++i) out.emplace_back(options_.predicts[i], networks_[i]->forward(x, t, condition));
  }
  return out;
}

torch::Tensor Model::features(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  return networks_.front()->features(x, t, condition);
}

void resolve_num_classes(config::Node& model_node, int64_t data_classes) {
  // An energy network's classes sit in the section of the network it wraps.
  const bool wraps = model_node.has("type") && model_node.has("network");
  config::Node node = wraps ? model_node.section("network") : model_node;
  if (!node.has("num_classes")) return;
  const std::string text = node.get<std::string>("num_classes", "0");
  if (text == "auto") {
    if (data_classes == 0) node.fail("num_classes", "auto takes the classes of labelled data, and this data has none");
    node.apply_override("num_classes=" + std::to_string(data_classes));
    return;
  }
  const int64_t classes = node.get<int64_t>("num_classes", 0);
  if (classes > 0 && classes != data_classes) {
    node.fail("num_classes", data_classes == 0
                                 ? "a class-conditional model needs labelled data, and this data has no labels"
                                 : "the data has " + std::to_string(data_classes) + " classes, not " +
                                       std::to_string(classes) + " (num_classes: auto takes the data's)");
  }
}

}  // namespace flowlab::nn
