// libFuzzer target: data::ImageFolder over a folder holding one image whose bytes are the input
// (after one control byte): stb_image's PNG, JPEG and BMP decoders, then flowlab's fit to H x W.
// Control byte: bits 0-1 the file's extension, bit 2 grey or RGB, bit 3 center_crop or resize,
// bits 4-7 the side of the fitted image (1 to 16).
#include <torch/torch.h>

#include <filesystem>

#include "flowlab/data/image_folder.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flowlab;
  if (size < 1) return 0;
  static const std::string folder = fuzz::scratch_dir() + "/images";
  static const char* const extensions[] = {".png", ".jpg", ".bmp", ".jpeg"};
  const uint8_t control = data[0];
  std::error_code ignored;
  std::filesystem::remove_all(folder, ignored);
  std::filesystem::create_directories(folder);
  fuzz::write_bytes(folder + "/image" + extensions[control & 3], data + 1, size - 1);

  data::ImageFolderOptions options;
  options.path = folder;
  options.channels = (control & 4) ? 3 : 1;
  options.fit = (control & 8) ? data::ImageFit::kResize : data::ImageFit::kCenterCrop;
  options.height = options.width = 1 + (control >> 4);
  fuzz::expect_clean(
      [&] {
        const data::ImageFolder images(options);
        const torch::Tensor pixels = images.images();  // decodes the file
        const std::vector<int64_t> expected = {1, options.channels, options.height, options.width};
        if (pixels.sizes() != torch::IntArrayRef(expected) || pixels.scalar_type() != torch::kUInt8) {
          std::fprintf(stderr, "ImageFolder: stored %s %s, expected [1, %lld, %lld, %lld] uint8\n",
                       c10::toString(pixels.scalar_type()), c10::str(pixels.sizes()).c_str(),
                       static_cast<long long>(options.channels), static_cast<long long>(options.height),
                       static_cast<long long>(options.width));
          std::abort();
        }
      },
      /*allow_torch_errors=*/false);
  return 0;
}
