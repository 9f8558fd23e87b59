#pragma once
// Sources: the distribution x0 at t = 0. A source is a Dataset built for the
// data's sample shape: a standard Gaussian, or any dataset of the same shape.
#include "flowlab/data/dataset.h"

namespace flowlab::data {

using SampleShape = std::vector<int64_t>;

/// The "sources" family (the `source:` section): gaussian, dataset.
Registry<Dataset, const SampleShape&>& source_registry();
void register_builtin_sources();

/// Standard normal N(0, I) samples of a given shape.
class GaussianSource : public Dataset {
 public:
  GaussianSource(const NoOptions&, const SampleShape& shape) : shape_(shape) {}
  std::vector<int64_t> sample_shape() const override { return shape_; }
  Batch sample(int64_t n, at::Generator& gen) const override;

 private:
  SampleShape shape_;
};

}  // namespace flowlab::data
