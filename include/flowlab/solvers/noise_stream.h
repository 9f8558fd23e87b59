#pragma once
// Per-sample Brownian noise for SDE solvers. The standard normals of sample i
// at step k are a pure function of (seed, i, k): a counter-based generator
// (Philox4x32-10) evaluated at those coordinates. So sample i gets the same
// noise whether it is drawn alone, in a batch of 100 or of 10000, at any batch
// offset, with any number of threads, in float32 or float64 (up to rounding:
// draws are made in float64 and then cast).
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace flowlab::solvers {

class NoiseStream {
 public:
  /// Noise for the samples with global indices first_index .. first_index + samples - 1,
  /// each of shape `sample_shape`, delivered as `dtype` on `device`.
  NoiseStream(uint64_t seed, int64_t first_index, int64_t samples, torch::IntArrayRef sample_shape,
              torch::ScalarType dtype = torch::kFloat, torch::Device device = torch::kCPU);

  /// A stream shaped like the state x [B, ...] (its batch size, per-sample shape,
  /// dtype and device), for the samples first_index .. first_index + B - 1.
  static NoiseStream for_state(uint64_t seed, int64_t first_index, const torch::Tensor& x);

  /// Standard normals [samples, sample_shape...] for the next step.
  torch::Tensor next();

  /// The standard normals of step `step` (>= 0), without advancing the stream.
  torch::Tensor draw(int64_t step) const;

  /// The step the next call of next() draws (the number of next() calls so far).
  int64_t next_step() const { return next_step_; }
  int64_t samples() const { return samples_; }

 private:
  uint64_t key_;  // the seed, mixed so that nearby seeds give unrelated streams
  int64_t first_index_;
  int64_t samples_;
  std::vector<int64_t> sample_shape_;
  int64_t sample_numel_;
  torch::ScalarType dtype_;
  torch::Device device_;
  int64_t next_step_ = 0;
};

}  // namespace flowlab::solvers
