#include <string>

#include "flowlab/data/dataset.h"

namespace flowlab::data {

std::optional<config::Node> test_split_config(const config::Node& data_node) {
  config::Node test = data_node.clone();
  const std::string type = test.has("type") ? test.require<std::string>("type") : "";
  const std::string split = test.has("split") ? test.require<std::string>("split") : "";
  // Fashion-MNIST and CIFAR-10 ship a test set; an image folder is split by test_fraction, and
  // only a run that trains on its train part leaves the test part unseen.
  const bool has_test = type == "fashion_mnist" || type == "cifar10" || (type == "image_folder" && split == "train");
  if (!has_test || split == "test") return std::nullopt;
  test.apply_override("split=test");
  return test;
}

}  // namespace flowlab::data
