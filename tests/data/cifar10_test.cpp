#include "flowlab/data/cifar10.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "data/data_test_util.h"
#include "flowlab/core/error.h"
#include "support/helpers.h"

namespace flowlab::data {
namespace {

using data_test::make_dataset;
using data_test::thrown_message;
using data_test::write_binary_file;

constexpr int64_t kPlane = 32 * 32;

// Pixel (c, y, x) of record `record`: differs between records, planes and positions.
uint8_t cifar_test_pixel(int64_t record, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((record * 7 + c * 85 + y * 3 + x) % 256);
}

// Records first_record, first_record + 1, ... with these labels, in the CIFAR-10 binary layout.
std::vector<uint8_t> cifar_test_records(const std::vector<int>& labels, int64_t first_record = 0) {
  std::vector<uint8_t> bytes;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    bytes.push_back(static_cast<uint8_t>(labels[k]));
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < 32; ++y) {
        for (int64_t x = 0; x < 32; ++x) bytes.push_back(cifar_test_pixel(first_record + int64_t(k), c, y, x));
      }
    }
  }
  return bytes;
}

// The expected pixels [N, 3, 32, 32] of records first .. first + n - 1.
torch::Tensor cifar_test_pixels(int64_t first, int64_t n) {
  torch::Tensor out = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  auto a = out.accessor<uint8_t, 4>();
  for (int64_t k = 0; k < n; ++k) {
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < 32; ++y) {
        for (int64_t x = 0; x < 32; ++x) a[k][c][y][x] = cifar_test_pixel(first + k, c, y, x);
      }
    }
  }
  return out;
}

// A CIFAR-10 folder: batch b (1..5) holds records 2(b-1), 2(b-1)+1 with labels 2(b-1), 2(b-1)+1;
// the test batch holds three records numbered from 100, labels 9, 0, 4.
void write_cifar10_folder(const testing::TempDir& dir) {
  for (int b = 1; b <= 5; ++b) {
    const int first = 2 * (b - 1);
    const std::string file = dir.file("data_batch_" + std::to_string(b) + ".bin");
    write_binary_file(file, cifar_test_records({first, first + 1}, first));
  }
  write_binary_file(dir.file("test_batch.bin"), cifar_test_records({9, 0, 4}, 100));
}

std::string cifar_yaml(const testing::TempDir& dir, const std::string& more = "") {
  return "type: cifar10\ndir: " + dir.path() + "\n" + more;
}

TEST(Cifar10, RecordsAreLabelThenRedGreenBluePlanes) {
  testing::TempDir dir;
  std::vector<uint8_t> bytes = cifar_test_records({3, 9});
  // Mark the first byte of each plane of record 1, to see which plane lands where.
  const std::size_t record1 = Cifar10::kRecordBytes;
  bytes[record1 + 1] = 11;               // red (0, 0)
  bytes[record1 + 1 + kPlane] = 22;      // green (0, 0)
  bytes[record1 + 1 + 2 * kPlane] = 33;  // blue (0, 0)
  bytes[record1 + 1 + 2 * kPlane + 32 + 5] = 44;  // blue (1, 5): rows are 32 bytes
  write_binary_file(dir.file("two.bin"), bytes);

  const StoredImages read = read_cifar10_file(dir.file("two.bin"));
  ASSERT_EQ(read.pixels.sizes(), torch::IntArrayRef({2, 3, 32, 32}));
  EXPECT_EQ(read.pixels.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(read.labels, torch::tensor({3, 9}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(read.pixels[0], cifar_test_pixels(0, 1)[0]));
  EXPECT_EQ(read.pixels[1][0][0][0].item<int64_t>(), 11);
  EXPECT_EQ(read.pixels[1][1][0][0].item<int64_t>(), 22);
  EXPECT_EQ(read.pixels[1][2][0][0].item<int64_t>(), 33);
  EXPECT_EQ(read.pixels[1][2][1][5].item<int64_t>(), 44);
}

TEST(Cifar10, TrainSplitReadsBatchesOneToFiveInOrderWithExactPixels) {
  testing::TempDir dir;
  write_cifar10_folder(dir);
  auto dataset = make_dataset(cifar_yaml(dir));
  const auto& data = dynamic_cast<const Cifar10&>(*dataset);
  EXPECT_EQ(data.size(), 10);
  EXPECT_EQ(data.num_classes(), 10);
  EXPECT_EQ(data.sample_shape(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_TRUE(torch::equal(data.labels(), torch::arange(10, torch::kInt64)));
  EXPECT_TRUE(torch::equal(data.images(), cifar_test_pixels(0, 10)));
  const Batch rows = data.rows(2, 5);
  ASSERT_EQ(rows.x.sizes(), torch::IntArrayRef({3, 3, 32, 32}));
  EXPECT_EQ(rows.x.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(rows.x, cifar_test_pixels(2, 3).to(torch::kFloat32) / 127.5f - 1.0f));
  EXPECT_TRUE(torch::equal(rows.label, torch::tensor({2, 3, 4}, torch::kInt64)));
}

TEST(Cifar10, TestSplitZeroToOneAndDrawsAreStoredRecords) {
  testing::TempDir dir;
  write_cifar10_folder(dir);
  auto dataset = make_dataset(cifar_yaml(dir, "split: test\npixel_range: zero_to_one\n"));
  const auto& data = dynamic_cast<const Cifar10&>(*dataset);
  ASSERT_EQ(data.size(), 3);
  EXPECT_TRUE(torch::equal(data.labels(), torch::tensor({9, 0, 4}, torch::kInt64)));
  const torch::Tensor stored = cifar_test_pixels(100, 3).to(torch::kFloat32) / 255.0f;
  EXPECT_TRUE(torch::equal(data.rows(0, 3).x, stored));
  at::Generator gen = make_generator(5);
  const Batch batch = data.sample(64, gen);
  ASSERT_EQ(batch.x.sizes(), torch::IntArrayRef({64, 3, 32, 32}));
  EXPECT_EQ(batch.label.scalar_type(), torch::kInt64);
  for (int64_t i = 0; i < 64; ++i) {
    const int64_t label = batch.label[i].item<int64_t>();
    const int64_t row = label == 9 ? 0 : label == 0 ? 1 : 2;
    EXPECT_TRUE(torch::equal(batch.x[i], stored[row])) << "sample " << i;
  }
  at::Generator again = make_generator(5);
  EXPECT_TRUE(torch::equal(data.sample(64, again).x, batch.x));
}

TEST(Cifar10, ClassSubsetKeepsLabelValues) {
  testing::TempDir dir;
  write_cifar10_folder(dir);
  auto dataset = make_dataset(cifar_yaml(dir, "classes: [7, 2]\n"));
  const auto& data = dynamic_cast<const Cifar10&>(*dataset);
  EXPECT_TRUE(torch::equal(data.labels(), torch::tensor({2, 7}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(data.images()[1], cifar_test_pixels(7, 1)[0]));
  EXPECT_EQ(data.num_classes(), 10);
}

TEST(Cifar10, BrokenFilesGiveErrorsNamingTheFile) {
  testing::TempDir dir;
  std::vector<uint8_t> cut = cifar_test_records({1, 2});
  cut.resize(cut.size() - 5);
  write_binary_file(dir.file("cut.bin"), cut);
  std::vector<uint8_t> big_label = cifar_test_records({1, 10});
  write_binary_file(dir.file("big-label.bin"), big_label);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"missing.bin", "cannot open"},
      {"cut.bin", "6141 bytes is not a whole number of CIFAR-10 records"},
      {"big-label.bin", "record 1 has label 10"},
  };
  for (const auto& [name, words] : cases) {
    SCOPED_TRACE(name);
    const std::string file = dir.file(name);
    const std::string message = thrown_message<Error>([&] { read_cifar10_file(file); });
    EXPECT_NE(message.find(file), std::string::npos) << message;
    EXPECT_NE(message.find(words), std::string::npos) << message;
  }
}

TEST(Cifar10, ConfigErrorsNameTheKey) {
  testing::TempDir dir;
  write_cifar10_folder(dir);
  std::filesystem::remove(dir.file("data_batch_3.bin"));
  const std::string missing = thrown_message<ConfigError>([&] { make_dataset(cifar_yaml(dir)); });
  EXPECT_NE(missing.find("dir:"), std::string::npos) << missing;
  EXPECT_NE(missing.find(dir.file("data_batch_3.bin")), std::string::npos) << missing;
  const std::string no_dir = thrown_message<ConfigError>([] { make_dataset("type: cifar10\n"); });
  EXPECT_NE(no_dir.find("dir: missing required key"), std::string::npos) << no_dir;
  const std::string classes = thrown_message<ConfigError>([&] { make_dataset(cifar_yaml(dir, "classes: [10]\n")); });
  EXPECT_NE(classes.find("classes: expected labels between 0 and 9"), std::string::npos) << classes;
  // The test split is still complete.
  EXPECT_EQ(make_dataset(cifar_yaml(dir, "split: test\n"))->size(), 3);
}

}  // namespace
}  // namespace flowlab::data
