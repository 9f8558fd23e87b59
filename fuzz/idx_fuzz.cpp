// libFuzzer target: data::read_idx_ubyte (Fashion-MNIST's IDX reader, gzipped or plain) on
// arbitrary bytes. What it returns must have exactly the element count its header declared.
#include <torch/torch.h>

#include "flowlab/data/fashion_mnist.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flowlab;
  static const std::string input = fuzz::scratch_dir() + "/input.idx";
  fuzz::write_bytes(input, data, size);
  fuzz::expect_clean(
      [&] {
        const torch::Tensor t = data::read_idx_ubyte(input);
        if (t.scalar_type() != torch::kUInt8 || t.dim() < 1 || t.dim() > 4) {
          std::fprintf(stderr, "read_idx_ubyte: returned %s of rank %lld\n", c10::toString(t.scalar_type()),
                       static_cast<long long>(t.dim()));
          std::abort();
        }
        // Plain (not gzipped) input: header + data is the whole file.
        const bool gzipped = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
        if (!gzipped && static_cast<std::size_t>(4 + 4 * t.dim() + t.numel()) != size) {
          std::fprintf(stderr, "read_idx_ubyte: %lld elements from a %zu-byte file\n",
                       static_cast<long long>(t.numel()), size);
          std::abort();
        }
        volatile uint8_t sink = t.numel() > 0 ? t.flatten()[t.numel() - 1].item<uint8_t>() : 0;
        (void)sink;
      },
      /*allow_torch_errors=*/false);
  return 0;
}
