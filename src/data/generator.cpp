#include <ATen/CPUGeneratorImpl.h>

#include "flowlab/data/dataset.h"

namespace flowlab::data {

at::Generator make_generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

}  // namespace flowlab::data
