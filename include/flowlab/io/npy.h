#pragma once
// NumPy .npy files (format versions 1-3), read and written so numpy reads them.
#include <torch/types.h>

#include <string>

namespace flowlab::io {

/// Reads float16/32/64, int8/16/32/64, uint8 and bool arrays, C or Fortran order,
/// either endianness, into a contiguous CPU tensor of the same dtype. Missing,
/// truncated or malformed files throw Error naming the file and the problem.
torch::Tensor read_npy(const std::string& path);

/// Writes a CPU or GPU tensor (any of the dtypes above) as little-endian
/// C-order .npy, atomically.
void write_npy(const std::string& path, const torch::Tensor& tensor);

}  // namespace flowlab::io
