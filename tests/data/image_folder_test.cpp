#include "flowlab/data/image_folder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <tuple>
#include <vector>

#include "data/data_test_util.h"
#include "flowlab/core/error.h"
#include "support/helpers.h"

// The tests write their own images; static, so no other stb_image_write can clash.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace flowlab::data {
namespace {

namespace fs = std::filesystem;
using data_test::make_dataset;
using data_test::thrown_message;
using data_test::write_binary_file;

// Pixel value at (y, x, channel c) of a test image.
using PixelFn = std::function<uint8_t(int y, int x, int c)>;

std::vector<uint8_t> interleaved(int width, int height, int channels, const PixelFn& pixel) {
  std::vector<uint8_t> out;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) out.push_back(pixel(y, x, c));
    }
  }
  return out;
}

// Writes a PNG (or, by the name's extension, a BMP or JPEG) with 1 or 3 channels.
void write_test_image(const std::string& path, int width, int height, int channels, const PixelFn& pixel) {
  fs::create_directories(fs::path(path).parent_path());
  const std::vector<uint8_t> data = interleaved(width, height, channels, pixel);
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  int ok = 0;
  if (ext == ".bmp") {
    ok = stbi_write_bmp(path.c_str(), width, height, channels, data.data());
  } else if (ext == ".jpg" || ext == ".jpeg") {
    ok = stbi_write_jpg(path.c_str(), width, height, channels, data.data(), 100);
  } else {
    ok = stbi_write_png(path.c_str(), width, height, channels, data.data(), width * channels);
  }
  ASSERT_TRUE(ok) << "cannot write " << path;
}

PixelFn constant(uint8_t value) {
  return [value](int, int, int) { return value; };
}

// The expected stored pixels uint8 [C, H, W] of `pixel`.
torch::Tensor expected_pixels(int width, int height, int channels, const PixelFn& pixel) {
  torch::Tensor out = torch::empty({channels, height, width}, torch::kUInt8);
  auto a = out.accessor<uint8_t, 3>();
  for (int c = 0; c < channels; ++c) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) a[c][y][x] = pixel(y, x, c);
    }
  }
  return out;
}

std::string folder_yaml(const std::string& path, const std::string& more) {
  return "type: image_folder\npath: " + path + "\n" + more;
}

const ImageFolder& as_folder(const std::unique_ptr<Dataset>& dataset) {
  return dynamic_cast<const ImageFolder&>(*dataset);
}

TEST(ImageFolder, DecodesExactPixelsIntoMinusOneToOne) {
  testing::TempDir dir;
  const PixelFn pattern = [](int y, int x, int c) { return static_cast<uint8_t>((y * 60 + x * 13 + c * 90) % 256); };
  write_test_image(dir.file("only.png"), 5, 4, 3, pattern);
  auto dataset = make_dataset(folder_yaml(dir.path(), "size: [4, 5]\n"));
  EXPECT_EQ(dataset->size(), 1);
  EXPECT_EQ(dataset->num_classes(), 0);
  EXPECT_EQ(dataset->sample_shape(), (std::vector<int64_t>{3, 4, 5}));
  const Batch rows = dataset->rows(0, 1);
  EXPECT_FALSE(rows.label.defined());
  EXPECT_EQ(rows.x.scalar_type(), torch::kFloat32);
  const torch::Tensor pixels = expected_pixels(5, 4, 3, pattern);
  EXPECT_TRUE(torch::equal(rows.x[0], pixels.to(torch::kFloat32) / 127.5f - 1.0f));
  EXPECT_FLOAT_EQ(rows.x[0][0][0][0].item<float>(), -1.0f);  // p = 0
  auto unit = make_dataset(folder_yaml(dir.path(), "size: [4, 5]\npixel_range: zero_to_one\n"));
  EXPECT_TRUE(torch::equal(unit->rows(0, 1).x[0], pixels.to(torch::kFloat32) / 255.0f));
  at::Generator gen = make_generator(0);
  const Batch batch = dataset->sample(3, gen);
  EXPECT_EQ(batch.x.sizes(), torch::IntArrayRef({3, 3, 4, 5}));
  EXPECT_FALSE(batch.label.defined());
}

TEST(ImageFolder, ChannelsConvertGreyAndRgb) {
  testing::TempDir dir;
  const PixelFn grey = [](int y, int x, int) { return static_cast<uint8_t>(40 * y + 7 * x); };
  write_test_image(dir.file("grey/a.png"), 3, 3, 1, grey);
  write_test_image(dir.file("rgb/a.png"), 3, 3, 3, grey);  // r = g = b
  const torch::Tensor plane = expected_pixels(3, 3, 1, grey);
  auto grey_as_grey = make_dataset(folder_yaml(dir.file("grey"), "size: 3\nchannels: 1\n"));
  EXPECT_TRUE(torch::equal(as_folder(grey_as_grey).images()[0], plane));
  auto grey_as_rgb = make_dataset(folder_yaml(dir.file("grey"), "size: 3\n"));
  EXPECT_TRUE(torch::equal(as_folder(grey_as_rgb).images()[0], plane.expand({3, 3, 3})));
  auto rgb_as_grey = make_dataset(folder_yaml(dir.file("rgb"), "size: 3\nchannels: 1\n"));
  EXPECT_TRUE(torch::equal(as_folder(rgb_as_grey).images()[0], plane));
}

TEST(ImageFolder, LabelsAreSortedSubFolderNamesAndOtherFilesAreIgnored) {
  testing::TempDir dir;
  // Created out of order; byte-wise order is Moose < ant < zebra.
  write_test_image(dir.file("zebra/z1.png"), 2, 2, 3, constant(30));
  write_test_image(dir.file("zebra/deeper/z0.PNG"), 2, 2, 3, constant(31));
  write_test_image(dir.file("ant/a.bmp"), 2, 2, 3, constant(20));
  write_test_image(dir.file("Moose/m.jpg"), 8, 8, 3, constant(100));
  write_binary_file(dir.file("ant/notes.txt"), {1, 2, 3});
  write_binary_file(dir.file("ant/.hidden.png"), {1, 2, 3});  // not decodable: must be skipped
  write_binary_file(dir.file("README.md"), {'h', 'i'});       // beside class folders, not an image
  auto dataset = make_dataset(folder_yaml(dir.path(), "size: 2\n"));
  const ImageFolder& data = as_folder(dataset);
  EXPECT_EQ(data.class_names(), (std::vector<std::string>{"Moose", "ant", "zebra"}));
  EXPECT_EQ(data.num_classes(), 3);
  ASSERT_EQ(data.size(), 4);
  EXPECT_TRUE(torch::equal(data.labels(), torch::tensor({0, 1, 2, 2}, torch::kInt64)));
  EXPECT_EQ(data.files()[2], dir.file("zebra/deeper/z0.PNG"));  // by path within a class
  EXPECT_EQ(data.images()[1].min().item<int64_t>(), 20);
  EXPECT_EQ(data.images()[1].max().item<int64_t>(), 20);
  EXPECT_EQ(data.images()[2].max().item<int64_t>(), 31);
  EXPECT_EQ(data.images()[3].min().item<int64_t>(), 30);
  // JPEG is lossy, but a flat colour survives nearly exactly (and 8x8 is centre-cropped to 2x2).
  EXPECT_LE((data.images()[0].to(torch::kInt64) - 100).abs().max().item<int64_t>(), 2);
  at::Generator gen = make_generator(1);
  const Batch batch = data.sample(50, gen);
  ASSERT_TRUE(batch.label.defined());
  EXPECT_EQ(batch.label.scalar_type(), torch::kInt64);
  EXPECT_GE(batch.label.min().item<int64_t>(), 0);
  EXPECT_LE(batch.label.max().item<int64_t>(), 2);

  auto subset = make_dataset(folder_yaml(dir.path(), "size: 2\nclasses: [2]\n"));
  EXPECT_TRUE(torch::equal(as_folder(subset).labels(), torch::tensor({2, 2}, torch::kInt64)));
  EXPECT_EQ(subset->num_classes(), 3);
}

TEST(ImageFolder, CenterCropKeepsTheCentre) {
  testing::TempDir dir;
  const PixelFn columns = [](int, int x, int) { return static_cast<uint8_t>(30 * x); };
  const PixelFn rows = [](int y, int, int) { return static_cast<uint8_t>(20 * y); };
  write_test_image(dir.file("wide/even.png"), 8, 4, 1, columns);
  write_test_image(dir.file("odd/odd.png"), 7, 4, 1, columns);
  write_test_image(dir.file("tall/tall.png"), 4, 10, 1, rows);
  const auto crop_of = [&](const std::string& folder) {
    return as_folder(make_dataset(folder_yaml(dir.file(folder), "size: 4\nchannels: 1\n"))).images()[0][0];
  };
  const torch::Tensor centre_columns = torch::tensor({60, 90, 120, 150}, torch::kUInt8).expand({4, 4});
  EXPECT_TRUE(torch::equal(crop_of("wide"), centre_columns));
  // (7 - 4) / 2 = 1.5 rounds to 2, half to even, as torchvision's CenterCrop does.
  EXPECT_TRUE(torch::equal(crop_of("odd"), centre_columns));
  const torch::Tensor centre_rows = torch::tensor({60, 80, 100, 120}, torch::kUInt8).view({4, 1}).expand({4, 4});
  EXPECT_TRUE(torch::equal(crop_of("tall"), centre_rows));
}

TEST(ImageFolder, CenterCropScalesTheShorterSideThenCutsTheCentre) {
  // 24 x 8 with a bright band over columns 6..17: scaled to 12 x 4, the centre 4 columns
  // come from columns 8..15 (and their filter taps 7..16) only.
  const torch::Tensor band = torch::full({1, 8, 24}, 10, torch::kUInt8);
  band.slice(2, 6, 18).fill_(200);
  const torch::Tensor crop = fit_image(band, 4, 4, ImageFit::kCenterCrop);
  ASSERT_EQ(crop.sizes(), torch::IntArrayRef({1, 4, 4}));
  EXPECT_TRUE(torch::equal(crop, torch::full({1, 4, 4}, 200, torch::kUInt8)));
  const torch::Tensor stretched = fit_image(band, 4, 4, ImageFit::kResize);
  EXPECT_LT(stretched.min().item<int64_t>(), 100);  // resize keeps the dark border
  // Not-square targets: the side needing the larger scale is matched, the other cropped.
  EXPECT_EQ(fit_image(band, 2, 4, ImageFit::kCenterCrop).sizes(), torch::IntArrayRef({1, 2, 4}));
  EXPECT_EQ(fit_image(band, 8, 16, ImageFit::kCenterCrop).sizes(), torch::IntArrayRef({1, 8, 16}));
}

TEST(ImageFolder, ResizeIsAntialiasedAndKeepsAConstantImageConstant) {
  // Shrinking one side and enlarging the other.
  const torch::Tensor flat = torch::full({3, 7, 3}, 77, torch::kUInt8);
  const torch::Tensor resized = fit_image(flat, 5, 9, ImageFit::kResize);
  ASSERT_EQ(resized.sizes(), torch::IntArrayRef({3, 5, 9}));
  EXPECT_TRUE(torch::equal(resized, torch::full({3, 5, 9}, 77, torch::kUInt8)));
  // One bright column in four, shrunk 4x: a filter averages it in (interior 255/4 = 63.75);
  // point-sampling bilinear would read only dark columns 4j+1, 4j+2 and give 0.
  const torch::Tensor stripes = torch::zeros({1, 4, 16}, torch::kUInt8);
  for (int64_t x = 3; x < 16; x += 4) stripes.select(2, x).fill_(255);
  const torch::Tensor small = fit_image(stripes, 4, 4, ImageFit::kResize);
  EXPECT_TRUE(torch::equal(small.select(2, 1), torch::full({1, 4}, 64, torch::kUInt8)));
  EXPECT_TRUE(torch::equal(small.select(2, 2), torch::full({1, 4}, 64, torch::kUInt8)));
  EXPECT_GT(small.min().item<int64_t>(), 30);
  // Through a folder, fit: resize stretches to the configured [H, W].
  testing::TempDir dir;
  write_test_image(dir.file("flat.png"), 3, 7, 3, constant(77));
  auto dataset = make_dataset(folder_yaml(dir.path(), "size: [5, 9]\nfit: resize\n"));
  EXPECT_TRUE(torch::equal(as_folder(dataset).images()[0], torch::full({3, 5, 9}, 77, torch::kUInt8)));
}

TEST(ImageFolder, TrainAndTestSplitsPartitionTheFilesByTheStatedRule) {
  testing::TempDir dir;
  for (int i = 0; i < 25; ++i) {
    const std::string name = std::string("img_") + (i < 10 ? "0" : "") + std::to_string(i) + ".png";
    write_test_image(dir.file(name), 2, 2, 1, constant(static_cast<uint8_t>(10 * i)));
  }
  const auto values = [](const Dataset& data) {
    const torch::Tensor pixels = dynamic_cast<const ImageFolder&>(data).images();
    std::vector<int64_t> out;
    for (int64_t i = 0; i < pixels.size(0); ++i) out.push_back(pixels[i][0][0][0].item<int64_t>() / 10);
    return out;
  };
  const std::string base = "size: 2\nchannels: 1\ntest_fraction: 0.2\n";
  auto test = make_dataset(folder_yaml(dir.path(), base + "split: test\n"));
  auto train = make_dataset(folder_yaml(dir.path(), base + "split: train\n"));
  auto all = make_dataset(folder_yaml(dir.path(), base));
  // floor((i + 1) / 5) > floor(i / 5): every fifth file, floor(25 * 0.2) = 5 of them.
  EXPECT_EQ(values(*test), (std::vector<int64_t>{4, 9, 14, 19, 24}));
  std::vector<int64_t> expected_train;
  for (int64_t i = 0; i < 25; ++i) {
    if (i % 5 != 4) expected_train.push_back(i);
  }
  EXPECT_EQ(values(*train), expected_train);
  EXPECT_EQ(all->size(), 25);
  EXPECT_EQ(as_folder(test).files()[0], dir.file("img_04.png"));
  // The default fraction 0.1: floor(2.5) = 2 test files.
  auto default_test = make_dataset(folder_yaml(dir.path(), "size: 2\nchannels: 1\nsplit: test\n"));
  EXPECT_EQ(values(*default_test), (std::vector<int64_t>{9, 19}));
  int64_t in_test = 0;
  for (int64_t i = 0; i < 1000; ++i) in_test += in_test_split(i, 0.37);
  EXPECT_EQ(in_test, 370);
}

TEST(ImageFolder, HflipAppliesToDrawsOnly) {
  testing::TempDir dir;
  const PixelFn ramp = [](int, int x, int) { return static_cast<uint8_t>(50 * x); };
  write_test_image(dir.file("ramp.png"), 4, 2, 1, ramp);
  auto dataset = make_dataset(folder_yaml(dir.path(), "size: [2, 4]\nchannels: 1\naugment: {hflip: true}\n"));
  const torch::Tensor stored = dataset->rows(0, 1).x[0];
  EXPECT_TRUE(torch::equal(stored, expected_pixels(4, 2, 1, ramp).to(torch::kFloat32) / 127.5f - 1.0f));
  at::Generator gen = make_generator(2);
  const torch::Tensor x = dataset->sample(200, gen).x;
  int64_t mirrored = 0;
  for (int64_t i = 0; i < 200; ++i) {
    const bool flipped = torch::equal(x[i], stored.flip({-1}));
    EXPECT_TRUE(flipped || torch::equal(x[i], stored));
    mirrored += flipped;
  }
  EXPECT_NEAR(static_cast<double>(mirrored), 100.0, data_test::binomial_tolerance(200, 0.5));
}

TEST(ImageFolder, BadFilesAndLayoutsGiveErrorsNamingThem) {
  testing::TempDir dir;
  write_test_image(dir.file("good/a.png"), 2, 2, 3, constant(1));
  fs::create_directories(dir.file("corrupt"));
  write_binary_file(dir.file("corrupt/bad.png"), {0x89, 'P', 'N', 'G', 1, 2, 3, 4});
  write_test_image(dir.file("mixed/loose.png"), 2, 2, 3, constant(1));
  write_test_image(dir.file("mixed/cls/a.png"), 2, 2, 3, constant(1));
  write_test_image(dir.file("hollow/full/a.png"), 2, 2, 3, constant(1));
  fs::create_directories(dir.file("hollow/empty"));
  write_binary_file(dir.file("hollow/empty/notes.txt"), {1});
  fs::create_directories(dir.file("nothing"));
  write_test_image(dir.file("labelled/a/x.png"), 2, 2, 3, constant(1));
  write_test_image(dir.file("labelled/b/y.png"), 2, 2, 3, constant(1));

  // Images are decoded on first use; the shape and classes are known before.
  auto corrupt_folder = make_dataset(folder_yaml(dir.file("corrupt"), "size: 2\n"));
  EXPECT_EQ(corrupt_folder->sample_shape(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(corrupt_folder->num_classes(), 0);
  const std::string corrupt = thrown_message<Error>([&] { corrupt_folder->size(); });
  EXPECT_NE(corrupt.find(dir.file("corrupt/bad.png") + ": cannot decode image"), std::string::npos) << corrupt;

  const std::vector<std::tuple<std::string, std::string, std::string>> config_cases = {
      {"missing", "size: 2\n", "path: image folder '" + dir.file("missing") + "' does not exist"},
      {"nothing", "size: 2\n", "'" + dir.file("nothing") + "' holds no image files"},
      {"mixed", "size: 2\n", "'" + dir.file("mixed") + "' holds both images (loose.png) and sub-folders (cls)"},
      {"hollow", "size: 2\n", "class folder '" + dir.file("hollow/empty") + "' holds no image files"},
      {"good", "", "size: missing required key"},
      {"good", "size: [0, 2]\n", "size: expected [H, W] or one integer, sizes >= 1"},
      {"good", "size: [2, 2, 2]\n", "size: expected [H, W] or one integer"},
      {"good", "size: large\n", "size: expected [H, W] or one integer"},
      {"good", "size: 2\nchannels: 4\n", "channels: expected 1 (grey) or 3 (RGB)"},
      {"good", "size: 2\nfit: crop\n", "fit: expected one of center_crop, resize"},
      {"good", "size: 2\ntest_fraction: 1\n", "test_fraction: expected a number strictly between 0 and 1"},
      {"good", "size: 2\nclasses: [0]\n", "classes: '" + dir.file("good") + "' has no class folders"},
      {"labelled", "size: 2\nclasses: [2]\n", "classes: expected labels between 0 and 1"},
  };
  for (const auto& [folder, keys, words] : config_cases) {
    SCOPED_TRACE(folder + ": " + keys);
    const std::string yaml = folder_yaml(dir.file(folder), keys);
    const std::string message = thrown_message<ConfigError>([&] { make_dataset(yaml); });
    EXPECT_FALSE(message.empty());
    EXPECT_NE(message.find(words), std::string::npos) << message;
  }
  // The test split of a single file is empty.
  const std::string empty_split =
      thrown_message<Error>([&] { make_dataset(folder_yaml(dir.file("good"), "size: 2\nsplit: test\n")); });
  EXPECT_NE(empty_split.find("no images of the chosen split"), std::string::npos) << empty_split;
}

// A header's width and height are checked before stb_image allocates the image: a few bytes
// claiming gigapixels are an error naming the file and the claim (found by fuzz/image_fuzz.cpp).
TEST(ImageFolder, HeadersClaimingHugeImagesAreRejectedBeforeDecoding) {
  testing::TempDir dir;
  const auto patched = [&](const std::string& name, const std::function<void(std::vector<uint8_t>&)>& patch) {
    const std::string file = dir.file(name + "/image" + fs::path(name).extension().string());
    write_test_image(file, 2, 2, 3, constant(7));
    std::ifstream in(file, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    patch(bytes);
    write_binary_file(file, bytes);
    return thrown_message<Error>([&] { make_dataset(folder_yaml(dir.file(name), "size: 2\n"))->size(); });
  };
  const auto put_le32 = [](std::vector<uint8_t>& b, std::size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  const auto put_be = [](std::vector<uint8_t>& b, std::size_t at, uint32_t v, int n) {
    for (int i = 0; i < n; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
  };
  // BMP: width and height at bytes 18 and 22. stb_image reads the rows missing from a short file
  // as zeros, so unchecked this "decodes" a 4000 x 4000 image out of 70 bytes.
  const std::string bmp = patched("x.bmp", [&](std::vector<uint8_t>& b) {
    put_le32(b, 18, 4000);
    put_le32(b, 22, 4000);
  });
  EXPECT_NE(bmp.find("image.bmp: corrupt image: its header claims 4000 x 4000 pixels, more than a file of"),
            std::string::npos) << bmp;
  // PNG: IHDR's width and height (big-endian) at bytes 16 and 20; unchecked, stb_image asks
  // for 17000 * 16000 * 3 bytes (816 MB) before it finds the pixel data short. (It refuses
  // more than 2^30 bytes itself.)
  const std::string png = patched("x.png", [&](std::vector<uint8_t>& b) {
    put_be(b, 16, 17000, 4);
    put_be(b, 20, 16000, 4);
  });
  EXPECT_NE(png.find("image.png: image of 17000 x 16000 pixels is larger than flowlab decodes"), std::string::npos)
      << png;
  // JPEG: the baseline frame header (FF C0, length, precision) then height and width, 16 bits each.
  const std::string jpg = patched("x.jpg", [&](std::vector<uint8_t>& b) {
    std::size_t at = 0;
    while (at + 1 < b.size() && !(b[at] == 0xFF && b[at + 1] == 0xC0)) ++at;
    ASSERT_LT(at + 9, b.size()) << "no SOF0 marker";
    put_be(b, at + 5, 3000, 2);
    put_be(b, at + 7, 3000, 2);
  });
  EXPECT_NE(jpg.find("image.jpg: corrupt image: its header claims 3000 x 3000 pixels"), std::string::npos) << jpg;
  // A BMP of height 0: stb_image decodes it to no pixels, which the resampling cannot take.
  const std::string flat = patched("y.bmp", [&](std::vector<uint8_t>& b) {
    put_le32(b, 18, 5);
    put_le32(b, 22, 0);
  });
  EXPECT_NE(flat.find("image.bmp: corrupt image: its header claims 5 x 0 pixels"), std::string::npos) << flat;
}

// stb_image does not check that a JPEG Huffman table lists at most 256 codes and writes past its
// table; flowlab checks every DHT segment first (found by fuzz/image_fuzz.cpp under UBSan).
TEST(ImageFolder, JpegHuffmanTablesWithTooManyCodesAreCorrupt) {
  testing::TempDir dir;
  const std::string file = dir.file("jpeg/image.jpg");
  write_test_image(file, 4, 4, 3, constant(90));
  std::vector<uint8_t> bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::size_t dht = 0;
  while (dht + 1 < bytes.size() && !(bytes[dht] == 0xFF && bytes[dht + 1] == 0xC4)) ++dht;
  ASSERT_LT(dht + 21, bytes.size()) << "no DHT segment";
  // The first table's counts of codes of lengths 15 and 16 (after marker, length and class byte).
  bytes[dht + 4 + 1 + 14] = 255;
  bytes[dht + 4 + 1 + 15] = 255;
  write_binary_file(file, bytes);
  const std::string message =
      thrown_message<Error>([&] { make_dataset(folder_yaml(dir.file("jpeg"), "size: 2\n"))->size(); });
  EXPECT_NE(message.find("image.jpg: corrupt JPEG (a Huffman table lists"), std::string::npos) << message;
  EXPECT_NE(message.find("codes, at most 256 exist)"), std::string::npos) << message;

  // A segment whose length runs past the end of the file: stb_image reads its next table on
  // from the last one and the missing bytes as zeros, so the table cut short by the file's end
  // still counts 510 codes.
  write_test_image(file, 4, 4, 3, constant(90));
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::size_t first_table = dht + 4;
  std::size_t first_codes = 0;
  for (int i = 1; i <= 16; ++i) first_codes += bytes[first_table + i];
  bytes.resize(first_table + 17 + first_codes);
  bytes[dht + 2] = 0x02;  // segment length 0x0200, far beyond the file
  bytes[dht + 3] = 0x00;
  for (uint8_t b : {0x10, 0xFF, 0xFF}) bytes.push_back(b);  // class byte, then 255 + 255 codes, then EOF
  write_binary_file(file, bytes);
  const std::string past_end =
      thrown_message<Error>([&] { make_dataset(folder_yaml(dir.file("jpeg"), "size: 2\n"))->size(); });
  EXPECT_NE(past_end.find("image.jpg: corrupt JPEG (a Huffman table lists 510 codes"), std::string::npos) << past_end;

  // stb_image takes FF fill bytes before the start-of-image marker: the tables are checked there too.
  bytes.insert(bytes.begin(), {0xFF, 0xFF, 0xFF});
  write_binary_file(file, bytes);
  const std::string filled =
      thrown_message<Error>([&] { make_dataset(folder_yaml(dir.file("jpeg"), "size: 2\n"))->size(); });
  EXPECT_NE(filled.find("image.jpg: corrupt JPEG (a Huffman table lists 510 codes"), std::string::npos) << filled;
}

TEST(ImageFolder, RegisteredWithDocumentedOptions) {
  data_test::ensure_datasets_registered();
  std::vector<std::string> keys;
  for (const auto& option : dataset_registry().options("image_folder")) keys.push_back(option.key);
  for (const char* key : {"path", "size", "channels", "fit", "split", "test_fraction", "pixel_range", "classes",
                          "augment.hflip"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
  std::vector<std::string> cifar_keys;
  for (const auto& option : dataset_registry().options("cifar10")) cifar_keys.push_back(option.key);
  EXPECT_NE(std::find(cifar_keys.begin(), cifar_keys.end(), "augment.hflip"), cifar_keys.end());
  EXPECT_FALSE(dataset_registry().doc("cifar10").empty());
}

}  // namespace
}  // namespace flowlab::data
