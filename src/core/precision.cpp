#include "flowlab/core/precision.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

// LibTorch 2.4 made autocast per device type (set_autocast_enabled(DeviceType, bool)); 1.13 has
// one switch for CUDA and one for CPU.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define FLOWLAB_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace flowlab {
namespace {

bool autocast_on(c10::DeviceType type) {
#ifdef FLOWLAB_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void set_autocast(c10::DeviceType type, bool on) {
#ifdef FLOWLAB_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, on);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
#endif
}

void set_autocast_bfloat16(c10::DeviceType type) {
#ifdef FLOWLAB_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
#endif
}

}  // namespace

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names{"fp32", "tf32", "bf16"};
  return names;
}

Precision precision_from_name(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  if (name == "bf16") return Precision::bf16;
  throw Error(unknown_name("precision", name, precision_names()));
}

std::string precision_name(Precision precision) {
  switch (precision) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
  }
  return "fp32";
}

bool autocast_enabled(c10::Device device) {
  if (device.type() != c10::DeviceType::CUDA && device.type() != c10::DeviceType::CPU) return false;
  return autocast_on(device.type());
}

PrecisionScope::PrecisionScope(c10::Device device, Precision precision)
    : type_(device.type()), precision_(precision) {
  TORCH_CHECK(type_ == c10::DeviceType::CPU || type_ == c10::DeviceType::CUDA,
              "precision: only CPU and CUDA devices, not ", device);
  auto& context = at::globalContext();
  tf32_cublas_was_ = context.allowTF32CuBLAS();
  tf32_cudnn_was_ = context.allowTF32CuDNN();
  if (type_ == c10::DeviceType::CUDA) {
    // fp32 means float32 products: TF32 off (cuDNN allows it by default); tf32 turns it on.
    context.setAllowTF32CuBLAS(precision_ == Precision::tf32);
    context.setAllowTF32CuDNN(precision_ == Precision::tf32);
  }
  autocast_was_on_ = autocast_on(type_);
  if (precision_ == Precision::bf16) {
    set_autocast_bfloat16(type_);
    set_autocast(type_, true);
    at::autocast::increment_nesting();
  }
}

PrecisionScope::~PrecisionScope() {
  if (precision_ == Precision::bf16) {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_autocast(type_, autocast_was_on_);
  }
  if (type_ == c10::DeviceType::CUDA) {
    at::globalContext().setAllowTF32CuBLAS(tf32_cublas_was_);
    at::globalContext().setAllowTF32CuDNN(tf32_cudnn_was_);
  }
}

AutocastPause::AutocastPause(c10::Device device) : type_(device.type()), was_on_(autocast_enabled(device)) {
  if (was_on_) set_autocast(type_, false);
}

AutocastPause::~AutocastPause() {
  if (was_on_) set_autocast(type_, true);
}

}  // namespace flowlab
