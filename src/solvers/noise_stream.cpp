#include "flowlab/solvers/noise_stream.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "flowlab/solvers/philox.h"

namespace flowlab::solvers {
namespace {

// Counter fields are 32 bits wide: steps and element pairs per sample must fit.
constexpr int64_t kMaxCounterField = int64_t{1} << 32;

// The top 53 bits of a 64-bit word as a double in [0, 1).
double unit_interval(uint32_t high, uint32_t low) {
  const uint64_t bits = (static_cast<uint64_t>(high) << 32) | low;
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// Fills row[0 .. numel) with the standard normals of one sample at one step.
// Element pair p comes from one Philox block at counter (p, step, sample):
// two 53-bit uniforms through Box-Muller give elements 2p and 2p + 1.
void fill_sample(double* row, int64_t numel, uint64_t key, uint64_t sample, uint32_t step) {
  const PhiloxKey philox_key = {static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)};
  const auto sample_low = static_cast<uint32_t>(sample), sample_high = static_cast<uint32_t>(sample >> 32);
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  for (int64_t element = 0; element < numel; element += 2) {
    const PhiloxCounter bits =
        philox4x32_10({static_cast<uint32_t>(element / 2), step, sample_low, sample_high}, philox_key);
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const double radius = std::sqrt(-2.0 * std::log(1.0 - unit_interval(bits[0], bits[1])));
    const double angle = kTwoPi * unit_interval(bits[2], bits[3]);
    row[element] = radius * std::cos(angle);
    if (element + 1 < numel) row[element + 1] = radius * std::sin(angle);
  }
}

}  // namespace

NoiseStream::NoiseStream(uint64_t seed, int64_t first_index, int64_t samples, torch::IntArrayRef sample_shape,
                         torch::ScalarType dtype, torch::Device device)
    : key_(splitmix64(seed)),
      first_index_(first_index),
      samples_(samples),
      sample_shape_(sample_shape.vec()),
      sample_numel_(1),
      dtype_(dtype),
      device_(device) {
  TORCH_CHECK(first_index >= 0, "NoiseStream: the first sample index must be >= 0, got ", first_index);
  TORCH_CHECK(samples >= 0, "NoiseStream: the number of samples must be >= 0, got ", samples);
  TORCH_CHECK(first_index <= std::numeric_limits<int64_t>::max() - samples,
              "NoiseStream: sample indices overflow int64 (first index ", first_index, ", ", samples, " samples)");
  TORCH_CHECK(c10::isFloatingType(dtype), "NoiseStream: the dtype must be floating point, got ", dtype);
  for (const int64_t size : sample_shape_) {
    TORCH_CHECK(size >= 0, "NoiseStream: negative size in the sample shape ", sample_shape);
    sample_numel_ *= size;
    TORCH_CHECK(sample_numel_ < 2 * kMaxCounterField, "NoiseStream: samples of shape ", sample_shape,
                " have more than 2^33 elements");
  }
}

NoiseStream NoiseStream::for_state(uint64_t seed, int64_t first_index, const torch::Tensor& x) {
  TORCH_CHECK(x.defined() && x.dim() >= 1, "NoiseStream: the state must be batch-first [B, ...]");
  return NoiseStream(seed, first_index, x.size(0), x.sizes().slice(1), x.scalar_type(), x.device());
}

torch::Tensor NoiseStream::next() {
  torch::Tensor noise = draw(next_step_);
  ++next_step_;
  return noise;
}

torch::Tensor NoiseStream::draw(int64_t step) const {
  TORCH_CHECK(step >= 0 && step < kMaxCounterField, "NoiseStream: step must be in [0, 2^32), got ", step);
  torch::Tensor normals = torch::empty({samples_, sample_numel_}, torch::kDouble);
  double* data = normals.data_ptr<double>();
  const int64_t numel = sample_numel_;
  const uint64_t key = key_;
  const auto first = static_cast<uint64_t>(first_index_);
  // Every value is a function of its coordinates only, so any split of the
  // samples across threads gives the same tensor.
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, numel));
  at::parallel_for(0, samples_, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      fill_sample(data + i * numel, numel, key, first + static_cast<uint64_t>(i), static_cast<uint32_t>(step));
    }
  });
  std::vector<int64_t> shape = {samples_};
  shape.insert(shape.end(), sample_shape_.begin(), sample_shape_.end());
  return normals.view(shape).to(device_, dtype_);
}

}  // namespace flowlab::solvers
