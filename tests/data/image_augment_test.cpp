#include "flowlab/data/image_augment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "data/data_test_util.h"
#include "flowlab/core/error.h"
#include "flowlab/data/cifar10.h"
#include "flowlab/data/fashion_mnist.h"
#include "support/helpers.h"

namespace flowlab::data {
namespace {

using data_test::binomial_tolerance;
using data_test::make_dataset;
using data_test::thrown_message;
using data_test::write_binary_file;

TEST(ImageAugment, HorizontalFlipMirrorsOnlyTheWidthAxisOfTheChosenImages) {
  const torch::Tensor images = torch::arange(2 * 2 * 3 * 4, torch::kInt64).reshape({2, 2, 3, 4});
  const torch::Tensor flipped = flip_horizontally_where(images, torch::tensor({true, false}));
  auto in = images.accessor<int64_t, 4>();
  auto out = flipped.accessor<int64_t, 4>();
  for (int64_t c = 0; c < 2; ++c) {
    for (int64_t y = 0; y < 3; ++y) {
      for (int64_t x = 0; x < 4; ++x) {
        EXPECT_EQ(out[0][c][y][x], in[0][c][y][3 - x]) << c << " " << y << " " << x;
        EXPECT_EQ(out[1][c][y][x], in[1][c][y][x]) << c << " " << y << " " << x;
      }
    }
  }
}

// One CIFAR-10 test batch of three records, each left-right asymmetric, labels 0, 1, 2.
void write_asymmetric_cifar10(const testing::TempDir& dir) {
  std::vector<uint8_t> bytes;
  for (int k = 0; k < 3; ++k) {
    bytes.push_back(static_cast<uint8_t>(k));
    // Brightness grows with x (i % 32), so no image is its own mirror.
    for (int i = 0; i < 3 * 32 * 32; ++i) bytes.push_back(static_cast<uint8_t>(k * 50 + (i % 32) * 4 + i / 1024));
  }
  write_binary_file(dir.file("test_batch.bin"), bytes);
}

// Counts samples equal to their stored image mirrored, checking each is the stored image or its mirror.
int64_t count_mirrored(const Batch& batch, const torch::Tensor& stored) {
  int64_t mirrored = 0;
  for (int64_t i = 0; i < batch.x.size(0); ++i) {
    const torch::Tensor original = stored[batch.label[i].item<int64_t>()];
    const bool same = torch::equal(batch.x[i], original), flipped = torch::equal(batch.x[i], original.flip({-1}));
    EXPECT_TRUE(same || flipped) << "sample " << i << " is neither its stored image nor its mirror";
    mirrored += flipped;
  }
  return mirrored;
}

TEST(ImageAugment, HflipFlipsAboutHalfTheDrawsReproduciblyAndNeverTheRows) {
  testing::TempDir dir;
  write_asymmetric_cifar10(dir);
  const std::string yaml = "type: cifar10\nsplit: test\ndir: " + dir.path() + "\n";
  auto plain = make_dataset(yaml);
  auto flipping = make_dataset(yaml + "augment: {hflip: true}\n");
  const torch::Tensor stored = plain->rows(0, 3).x;
  EXPECT_TRUE(torch::equal(flipping->rows(0, 3).x, stored));

  constexpr int64_t n = 2000;
  at::Generator gen = make_generator(11);
  const Batch batch = flipping->sample(n, gen);
  const int64_t mirrored = count_mirrored(batch, stored);
  EXPECT_NEAR(static_cast<double>(mirrored), n / 2.0, binomial_tolerance(n, 0.5));
  at::Generator again = make_generator(11);
  EXPECT_TRUE(torch::equal(flipping->sample(n, again).x, batch.x));
  // Indices come first, so the same seed draws the same images with or without flips.
  at::Generator unflipped_gen = make_generator(11);
  const Batch unflipped = plain->sample(n, unflipped_gen);
  EXPECT_TRUE(torch::equal(unflipped.label, batch.label));
  EXPECT_EQ(count_mirrored(unflipped, stored), 0);
}

// Plain (ungzipped) IDX files under the gzipped names, which the reader accepts: two
// left-right asymmetric 28x28 images, labels 0 and 1.
void write_fashion_mnist_pair(const testing::TempDir& dir) {
  std::vector<uint8_t> images = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28};
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < 28 * 28; ++i) images.push_back(static_cast<uint8_t>(k * 100 + (i % 28) * 4));
  }
  write_binary_file(dir.file("t10k-images-idx3-ubyte.gz"), images);
  write_binary_file(dir.file("t10k-labels-idx1-ubyte.gz"), {0, 0, 8, 1, 0, 0, 0, 2, 0, 1});
}

TEST(ImageAugment, HflipOnFashionMnistMirrorsTheImageEvenWhenFlat) {
  testing::TempDir dir;
  write_fashion_mnist_pair(dir);
  const std::string yaml = "type: fashion_mnist\nsplit: test\ndir: " + dir.path() + "\n";
  const torch::Tensor stored = make_dataset(yaml)->rows(0, 2).x;  // [2, 1, 28, 28]
  auto flat = make_dataset(yaml + "shape: flat\naugment: {hflip: true}\n");
  constexpr int64_t n = 400;
  at::Generator gen = make_generator(3);
  const Batch batch = flat->sample(n, gen);
  ASSERT_EQ(batch.x.sizes(), torch::IntArrayRef({n, 784}));
  const Batch as_images{batch.x.view({n, 1, 28, 28}), batch.label};
  EXPECT_NEAR(static_cast<double>(count_mirrored(as_images, stored)), n / 2.0, binomial_tolerance(n, 0.5));
  EXPECT_TRUE(torch::equal(flat->rows(0, 2).x, stored.view({2, 784})));
}

TEST(ImageAugment, ConfigErrorsNameTheAugmentKey) {
  testing::TempDir dir;
  write_asymmetric_cifar10(dir);
  const std::string yaml = "type: cifar10\nsplit: test\ndir: " + dir.path() + "\n";
  const std::string typo = thrown_message<ConfigError>([&] { make_dataset(yaml + "augment: {hflp: true}\n"); });
  EXPECT_NE(typo.find("augment.hflp: unknown key (did you mean 'hflip'?)"), std::string::npos) << typo;
  const std::string value = thrown_message<ConfigError>([&] { make_dataset(yaml + "augment: {hflip: often}\n"); });
  EXPECT_NE(value.find("augment.hflip: expected a boolean"), std::string::npos) << value;
}

}  // namespace
}  // namespace flowlab::data
