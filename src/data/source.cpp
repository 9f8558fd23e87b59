#include "flowlab/data/source.h"

#include <torch/torch.h>

#include "flowlab/core/strings.h"

namespace flowlab::data {

Batch GaussianSource::sample(int64_t n, at::Generator& gen) const {
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), shape_.begin(), shape_.end());
  return {torch::randn(shape, gen, torch::kFloat32), {}};
}

Registry<Dataset, const SampleShape&>& source_registry() {
  static Registry<Dataset, const SampleShape&> registry("sources");
  return registry;
}

namespace {

std::string shape_text(const SampleShape& shape) {
  std::vector<std::string> parts;
  for (int64_t s : shape) parts.push_back(std::to_string(s));
  return "[" + join(parts, ", ") + "]";
}

}  // namespace

void register_builtin_sources() {
  source_registry().add_component<GaussianSource, NoOptions>("gaussian", "standard normal N(0, I) shaped like the data");
  source_registry().add(
      "dataset", "samples of another dataset (section `data:` with its own type), shaped like the data",
      [](config::Node& node, const SampleShape& shape) -> std::unique_ptr<Dataset> {
        config::Node inner = node.section("data", "the source dataset, as in the top-level data: section");
        std::unique_ptr<Dataset> made = dataset_registry().create(inner);
        if (made->sample_shape() != shape) {
          node.fail("data", "source samples are " + shape_text(made->sample_shape()) + " but data samples are " +
                                shape_text(shape));
        }
        return made;
      },
      [](config::Node& node) { node.section("data", "the source dataset, as in the top-level data: section"); });
}

}  // namespace flowlab::data
