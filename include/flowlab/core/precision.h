#pragma once
// The arithmetic a run computes in: fp32, fp32 with TF32 matrix products on CUDA, or bfloat16
// autocast (float32 weights, optimizer state and solver state; matrix products and
// convolutions in bf16). The scopes restore what they changed, so nested and consecutive
// runs in one process do not leak settings into each other.
#include <c10/core/Device.h>

#include <string>
#include <vector>

namespace flowlab {

enum class Precision {
  fp32,  ///< float32 everywhere (TF32 off on CUDA)
  tf32,  ///< float32 tensors, TF32 tensor-core matrix products and convolutions on CUDA (fp32 on CPU)
  bf16,  ///< autocast to bfloat16 on the run's device (CUDA; also CPU, where LibTorch supports it)
};

/// "fp32", "tf32", "bf16": the values of train.precision and sample.precision.
const std::vector<std::string>& precision_names();
Precision precision_from_name(const std::string& name);  ///< throws Error for other names
std::string precision_name(Precision precision);

/// Sets the precision of everything computed on `device` while it lives: TF32 on CUDA for tf32;
/// autocast to bfloat16 on the device's type for bf16 (nested: the cast cache is cleared when
/// the outermost scope ends, so no stale cast of a weight updated in place survives a step).
class PrecisionScope {
 public:
  PrecisionScope(c10::Device device, Precision precision);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  c10::DeviceType type_;
  Precision precision_;
  bool autocast_was_on_ = false;
  bool tf32_cublas_was_ = false;
  bool tf32_cudnn_was_ = false;
};

/// Turns autocast off on `device` while it lives (backward passes and optimizer steps run in
/// the dtypes the forward recorded, outside autocast, as PyTorch recommends).
class AutocastPause {
 public:
  explicit AutocastPause(c10::Device device);
  ~AutocastPause();
  AutocastPause(const AutocastPause&) = delete;
  AutocastPause& operator=(const AutocastPause&) = delete;

 private:
  c10::DeviceType type_;
  bool was_on_;
};

/// Whether autocast is on for `device`'s type in this thread.
bool autocast_enabled(c10::Device device);

}  // namespace flowlab
