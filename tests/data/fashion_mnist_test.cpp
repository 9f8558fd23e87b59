#include "flowlab/data/fashion_mnist.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "data/data_test_util.h"
#include "flowlab/core/error.h"
#include "support/helpers.h"

namespace flowlab::data {
namespace {

using data_test::make_dataset;
using data_test::thrown_message;

const std::string kDir = "/usr/share/datasets/fashion-mnist";

bool installed() { return std::filesystem::exists(kDir + "/train-images-idx3-ubyte.gz"); }

#define SKIP_UNLESS_INSTALLED() \
  if (!installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed in " << kDir

// The test split is loaded once; the 60000-image training split only where needed.
const FashionMnist& test_split() {
  static const auto dataset = make_dataset("type: fashion_mnist\nsplit: test\n");
  return dynamic_cast<const FashionMnist&>(*dataset);
}

// Counts per class, first labels and pixel sum, computed by Python's gzip reader as an oracle.
std::vector<int64_t> python_summary(const std::string& split) {
  const std::string output = testing::run_python(
      "import gzip, numpy as np\n"
      "d = '" + kDir + "/" + split + "'\n"
      "x = np.frombuffer(gzip.open(d + '-images-idx3-ubyte.gz').read()[16:], np.uint8)\n"
      "y = np.frombuffer(gzip.open(d + '-labels-idx1-ubyte.gz').read()[8:], np.uint8)\n"
      "print('RESULT', *np.bincount(y, minlength=10), *y[:5], int(x.astype(np.int64).sum()))\n");
  std::istringstream in(output.substr(output.find("RESULT") + 6));
  std::vector<int64_t> values;
  for (int64_t v; in >> v;) values.push_back(v);
  return values;
}

void expect_matches_python(const FashionMnist& dataset, const std::string& split, int64_t per_class) {
  const std::vector<int64_t> oracle = python_summary(split);
  ASSERT_EQ(oracle.size(), 16u);
  const torch::Tensor counts = torch::bincount(dataset.labels(), {}, 10);
  for (int64_t c = 0; c < 10; ++c) {
    EXPECT_EQ(counts[c].item<int64_t>(), per_class) << "class " << c;  // Fashion-MNIST is exactly balanced
    EXPECT_EQ(counts[c].item<int64_t>(), oracle[c]);
  }
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(dataset.labels()[i].item<int64_t>(), oracle[10 + i]) << "label " << i;
  EXPECT_EQ(dataset.images().to(torch::kInt64).sum().item<int64_t>(), oracle[15]);
}

TEST(FashionMnist, TestSplitHas10000BalancedImagesMatchingPython) {
  SKIP_UNLESS_INSTALLED();
  const FashionMnist& data = test_split();
  EXPECT_EQ(data.size(), 10000);
  EXPECT_EQ(data.images().sizes(), torch::IntArrayRef({10000, 1, 28, 28}));
  EXPECT_EQ(data.num_classes(), 10);
  EXPECT_EQ(data.labels().min().item<int64_t>(), 0);
  EXPECT_EQ(data.labels().max().item<int64_t>(), 9);
  expect_matches_python(data, "t10k", 1000);
}

TEST(FashionMnist, TrainSplitHas60000BalancedImagesWithTheKnownMeanPixel) {
  SKIP_UNLESS_INSTALLED();
  auto dataset = make_dataset("type: fashion_mnist\nsplit: train\nshape: flat\n");
  const auto& data = dynamic_cast<const FashionMnist&>(*dataset);
  EXPECT_EQ(data.size(), 60000);
  expect_matches_python(data, "train", 6000);
  // The widely quoted normalisation constants of Fashion-MNIST: mean 0.2860, std 0.3530.
  const torch::Tensor pixels = data.images().to(torch::kFloat64) / 255.0;
  EXPECT_NEAR(pixels.mean().item<double>(), 0.2860, 5e-4);
  EXPECT_NEAR(pixels.std().item<double>(), 0.3530, 5e-4);
}

TEST(FashionMnist, ImageBatchesAreInMinusOneToOneWithLabels) {
  SKIP_UNLESS_INSTALLED();
  const FashionMnist& data = test_split();
  EXPECT_EQ(data.sample_shape(), (std::vector<int64_t>{1, 28, 28}));
  at::Generator gen = make_generator(0);
  const Batch batch = data.sample(256, gen);
  ASSERT_EQ(batch.x.sizes(), torch::IntArrayRef({256, 1, 28, 28}));
  EXPECT_EQ(batch.x.scalar_type(), torch::kFloat32);
  EXPECT_EQ(batch.label.sizes(), torch::IntArrayRef({256}));
  EXPECT_EQ(batch.label.scalar_type(), torch::kInt64);
  EXPECT_EQ(batch.x.min().item<float>(), -1.0f);  // black background
  EXPECT_LE(batch.x.max().item<float>(), 1.0f);
  EXPECT_GT(batch.x.max().item<float>(), 0.9f);
  // Each sample is a stored image with its label: find it by exact pixel match.
  const torch::Tensor stored = data.to_float(data.images());
  for (int64_t i = 0; i < 4; ++i) {
    const torch::Tensor same = (stored == batch.x[i]).flatten(1).all(1);
    const torch::Tensor matches = same.nonzero().squeeze(1);
    ASSERT_GE(matches.numel(), 1);
    EXPECT_EQ(data.labels()[matches[0].item<int64_t>()].item<int64_t>(), batch.label[i].item<int64_t>());
  }
  at::Generator again = make_generator(0);
  EXPECT_TRUE(torch::equal(data.sample(256, again).x, batch.x));
}

TEST(FashionMnist, FlatZeroToOneAndClassSubset) {
  SKIP_UNLESS_INSTALLED();
  auto dataset = make_dataset(
      "type: fashion_mnist\nsplit: test\nshape: flat\npixel_range: zero_to_one\nclasses: [7, 0]\n");
  const auto& data = dynamic_cast<const FashionMnist&>(*dataset);
  EXPECT_EQ(data.size(), 2000);
  EXPECT_EQ(data.sample_shape(), (std::vector<int64_t>{784}));
  at::Generator gen = make_generator(1);
  const Batch batch = data.sample(500, gen);
  ASSERT_EQ(batch.x.sizes(), torch::IntArrayRef({500, 784}));
  EXPECT_EQ(batch.x.min().item<float>(), 0.0f);
  EXPECT_LE(batch.x.max().item<float>(), 1.0f);
  EXPECT_TRUE(((batch.label == 0) | (batch.label == 7)).all().item<bool>());
  EXPECT_GT((batch.label == 0).sum().item<int64_t>(), 150);
  EXPECT_GT((batch.label == 7).sum().item<int64_t>(), 150);
  EXPECT_EQ(data.num_classes(), 10);  // labels keep their meaning
}

TEST(FashionMnist, ConfigErrorsNameTheKey) {
  const std::string split = thrown_message<ConfigError>([] { make_dataset("type: fashion_mnist\nsplit: tarin\n"); });
  EXPECT_NE(split.find("split:"), std::string::npos) << split;
  EXPECT_NE(split.find("did you mean 'train'"), std::string::npos) << split;
  const std::string classes = thrown_message<ConfigError>([] { make_dataset("type: fashion_mnist\nclasses: [3, 10]\n"); });
  EXPECT_NE(classes.find("classes: expected labels between 0 and 9"), std::string::npos) << classes;
  const std::string dir = thrown_message<ConfigError>([] { make_dataset("type: fashion_mnist\ndir: /nonexistent/fm\n"); });
  EXPECT_NE(dir.find("dir:"), std::string::npos) << dir;
  EXPECT_NE(dir.find("/nonexistent/fm/train-images-idx3-ubyte.gz"), std::string::npos) << dir;
}

// Writes IDX files in `dir` with Python's gzip: a valid labels/images pair and broken variants.
void write_idx_files(const testing::TempDir& dir) {
  testing::run_python(
      "import gzip, struct, os\n"
      "d = '" + dir.path() + "'\n"
      "def idx(dims, data):\n"
      "    return b'\\x00\\x00\\x08' + bytes([len(dims)]) + b''.join(struct.pack('>I', n) for n in dims) + data\n"
      "def gz(name, raw):\n"
      "    with gzip.open(os.path.join(d, name), 'wb') as f: f.write(raw)\n"
      "images = idx([3, 28, 28], bytes(range(256)) * 9 + bytes(3 * 784 - 2304))\n"
      "labels = idx([3], bytes([4, 0, 9]))\n"
      "gz('good-images.gz', images)\n"
      "gz('good-labels.gz', labels)\n"
      "open(os.path.join(d, 'plain-labels'), 'wb').write(labels)\n"
      "full = gzip.compress(images)\n"
      "open(os.path.join(d, 'cut-stream.gz'), 'wb').write(full[: len(full) // 2])\n"
      "open(os.path.join(d, 'garbage.gz'), 'wb').write(b'\\x1f\\x8b\\x08\\x00' + bytes(range(200)))\n"
      "gz('bad-magic.gz', b'\\x00\\x01\\x08\\x01' + struct.pack('>I', 3) + bytes(3))\n"
      "gz('float-type.gz', b'\\x00\\x00\\x0d\\x01' + struct.pack('>I', 3) + bytes(12))\n"
      "gz('short-data.gz', idx([10], bytes(4)))\n"
      "gz('long-data.gz', idx([2], bytes(5)))\n"
      "gz('short-header.gz', b'\\x00\\x00\\x08\\x03\\x00\\x00')\n"
      "gz('huge-dims.gz', idx([4000000000, 4000000000], b''))\n"
      "gz('wrong-labels.gz', idx([5], bytes(5)))\n"
      "gz('big-label.gz', idx([3], bytes([1, 12, 3])))\n"
      "gz('wrong-side.gz', idx([3, 27, 28], bytes(3 * 27 * 28)))\n");
}

TEST(FashionMnist, ReadIdxReadsGzippedAndPlainFiles) {
  testing::TempDir dir;
  write_idx_files(dir);
  const torch::Tensor labels = read_idx_ubyte(dir.file("good-labels.gz"));
  EXPECT_EQ(labels.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(labels, torch::tensor({4, 0, 9}, torch::kUInt8)));
  EXPECT_TRUE(torch::equal(read_idx_ubyte(dir.file("plain-labels")), labels));
  const torch::Tensor images = read_idx_ubyte(dir.file("good-images.gz"));
  EXPECT_EQ(images.sizes(), torch::IntArrayRef({3, 28, 28}));
  EXPECT_EQ(images[0][9][3].item<int64_t>(), 255);  // flat index 255
  EXPECT_EQ(images[0][1][0].item<int64_t>(), 28);
}

TEST(FashionMnist, BrokenIdxFilesGiveErrorsNamingTheFile) {
  testing::TempDir dir;
  write_idx_files(dir);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"missing.gz", "cannot open"},
      {"cut-stream.gz", "truncated"},
      {"garbage.gz", ""},
      {"bad-magic.gz", "bad magic number"},
      {"float-type.gz", "0x0d is not unsigned byte"},
      {"short-data.gz", "needs 10 bytes of data, found only 4"},
      {"long-data.gz", "more data than its header declares"},
      {"short-header.gz", "truncated"},
      {"huge-dims.gz", "implausibly large"},
  };
  for (const auto& [name, words] : cases) {
    SCOPED_TRACE(name);
    const std::string file = dir.file(name);
    const std::string message = thrown_message<Error>([&] { read_idx_ubyte(file); });
    EXPECT_NE(message.find(file), std::string::npos) << message;
    EXPECT_NE(message.find(words), std::string::npos) << message;
  }
}

TEST(FashionMnist, InconsistentFilesInADirGiveErrorsNamingTheFile) {
  testing::TempDir dir;
  write_idx_files(dir);
  namespace fs = std::filesystem;
  const auto install = [&](const std::string& images, const std::string& labels) {
    fs::copy_file(dir.file(images), dir.file("t10k-images-idx3-ubyte.gz"), fs::copy_options::overwrite_existing);
    fs::copy_file(dir.file(labels), dir.file("t10k-labels-idx1-ubyte.gz"), fs::copy_options::overwrite_existing);
  };
  const std::string yaml = "type: fashion_mnist\nsplit: test\ndir: " + dir.path() + "\n";

  install("good-images.gz", "good-labels.gz");
  auto dataset = make_dataset(yaml);
  EXPECT_EQ(dynamic_cast<const FashionMnist&>(*dataset).size(), 3);

  const std::string labels_file = dir.file("t10k-labels-idx1-ubyte.gz");
  const std::string images_file = dir.file("t10k-images-idx3-ubyte.gz");
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> cases = {
      {"good-images.gz", "wrong-labels.gz", labels_file, "expected 3 labels"},
      {"good-images.gz", "big-label.gz", labels_file, "label 12 is not in 0..9"},
      {"wrong-side.gz", "good-labels.gz", images_file, "[N, 28, 28], found [3, 27, 28]"},
      {"cut-stream.gz", "good-labels.gz", images_file, "truncated"},
  };
  for (const auto& [images, labels, file, words] : cases) {
    SCOPED_TRACE(images + " + " + labels);
    install(images, labels);
    // The files are read on first use: the shape and classes are known before, and a broken
    // file fails every use alike (a failed read is retried, not remembered as empty).
    auto broken = make_dataset(yaml);
    EXPECT_EQ(broken->sample_shape(), (std::vector<int64_t>{1, 28, 28}));
    EXPECT_EQ(broken->num_classes(), 10);
    for (int use = 0; use < 2; ++use) {
      const std::string message = thrown_message<Error>([&] { broken->size(); });
      EXPECT_NE(message.find(file), std::string::npos) << message;
      EXPECT_NE(message.find(words), std::string::npos) << message;
    }
    at::Generator gen = make_generator(0);
    EXPECT_NE(thrown_message<Error>([&] { broken->sample(2, gen); }).find(words), std::string::npos);
  }
}

}  // namespace
}  // namespace flowlab::data
