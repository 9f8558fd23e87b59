// libFuzzer target: io::read_npy on arbitrary bytes. Whatever it reads must be a contiguous CPU
// tensor no larger than the file, and must survive write_npy + read_npy unchanged.
#include <torch/torch.h>

#include <cstring>

#include "flowlab/io/npy.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flowlab;
  static const std::string input = fuzz::scratch_dir() + "/input.npy";
  static const std::string copy = fuzz::scratch_dir() + "/copy.npy";
  fuzz::write_bytes(input, data, size);
  fuzz::expect_clean(
      [&] {
        const torch::Tensor t = io::read_npy(input);
        const auto bytes = static_cast<std::size_t>(t.numel()) * t.element_size();
        if (!t.device().is_cpu() || !t.is_contiguous() || bytes > size) {
          std::fprintf(stderr, "read_npy: %zu bytes of data from a %zu-byte file, contiguous %d\n", bytes, size,
                       static_cast<int>(t.is_contiguous()));
          std::abort();
        }
        io::write_npy(copy, t);
        const torch::Tensor back = io::read_npy(copy);
        if (back.scalar_type() != t.scalar_type() || back.sizes() != t.sizes() ||
            (bytes > 0 && std::memcmp(back.data_ptr(), t.data_ptr(), bytes) != 0)) {
          std::fprintf(stderr, "read_npy: the array changed through write_npy + read_npy\n");
          std::abort();
        }
      },
      /*allow_torch_errors=*/false);
  return 0;
}
