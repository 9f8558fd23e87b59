#include "flowlab/data/npy_dataset.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/data_test_util.h"
#include "flowlab/core/error.h"
#include "support/helpers.h"

namespace flowlab::data {
namespace {

using data_test::make_dataset;
using data_test::thrown_message;

constexpr int64_t kRows = 500;

// Writes rows (i, 2i + 0.5, -i^2 / 100) as float64 and labels i % 4 as int32, with numpy.
void write_files(const testing::TempDir& dir) {
  testing::run_python(
      "import numpy as np\n"
      "i = np.arange(" + std::to_string(kRows) + ", dtype=np.float64)\n"
      "np.save('" + dir.file("x.npy") + "', np.stack([i, 2 * i + 0.5, -i**2 / 100], axis=1))\n"
      "np.save('" + dir.file("y.npy") + "', (np.arange(" + std::to_string(kRows) + ") % 4).astype(np.int32))\n"
      "np.save('" + dir.file("img.npy") + "', np.arange(40 * 6, dtype=np.uint8).reshape(40, 1, 2, 3))\n");
}

TEST(NpyDataset, ReadsWhatNumpyWroteAndSamplesItsRowsWithLabels) {
  testing::TempDir dir;
  write_files(dir);
  auto dataset = make_dataset("type: npy\npath: " + dir.file("x.npy") + "\nlabels: " + dir.file("y.npy") + "\n");
  const auto& npy = dynamic_cast<const NpyDataset&>(*dataset);
  EXPECT_EQ(npy.size(), kRows);
  EXPECT_EQ(npy.sample_shape(), (std::vector<int64_t>{3}));
  EXPECT_EQ(npy.num_classes(), 4);
  EXPECT_EQ(npy.data()[123][1].item<float>(), 246.5f);

  at::Generator gen = make_generator(3);
  const int64_t n = 20000;
  const Batch batch = dataset->sample(n, gen);
  ASSERT_EQ(batch.x.sizes(), torch::IntArrayRef({n, 3}));
  EXPECT_EQ(batch.x.scalar_type(), torch::kFloat32);
  ASSERT_TRUE(batch.label.defined());
  EXPECT_EQ(batch.label.scalar_type(), torch::kInt64);
  // Each sample is a whole row with its own label.
  const torch::Tensor i = batch.x.select(1, 0).to(torch::kFloat64);
  EXPECT_TRUE(torch::equal(batch.x.select(1, 1).to(torch::kFloat64), 2 * i + 0.5));
  EXPECT_TRUE(torch::equal(batch.label, i.to(torch::kInt64) % 4));
  // Indices uniform on 0..N-1: mean (N-1)/2, std N/sqrt(12).
  EXPECT_NEAR(i.mean().item<double>(), (kRows - 1) / 2.0, 5.0 * kRows / std::sqrt(12.0 * n));
  EXPECT_EQ(std::get<0>(torch::unique_dim(batch.x, 0)).size(0), kRows);  // 20000 draws of 500 rows see every row
}

TEST(NpyDataset, SameSeedSameBatch) {
  testing::TempDir dir;
  write_files(dir);
  auto dataset = make_dataset("type: npy\npath: " + dir.file("x.npy") + "\n");
  at::Generator a = make_generator(5), b = make_generator(5), c = make_generator(6);
  const Batch first = dataset->sample(64, a);
  EXPECT_FALSE(first.label.defined());
  EXPECT_EQ(dataset->num_classes(), 0);
  EXPECT_TRUE(torch::equal(first.x, dataset->sample(64, b).x));
  EXPECT_FALSE(torch::equal(first.x, dataset->sample(64, c).x));
}

TEST(NpyDataset, StandardizeUsesNumpysMeanAndStd) {
  testing::TempDir dir;
  write_files(dir);
  const std::string output = testing::run_python(
      "import numpy as np\n"
      "x = np.load('" + dir.file("x.npy") + "')\n"
      "print('RESULT', *[repr(float(v)) for v in np.concatenate([x.mean(0), x.std(0)])])\n");
  std::istringstream in(output.substr(output.find("RESULT") + 6));
  std::vector<double> expected;
  for (double v; in >> v;) expected.push_back(v);
  ASSERT_EQ(expected.size(), 6u);

  auto dataset = make_dataset("type: npy\npath: " + dir.file("x.npy") + "\nstandardize: true\n");
  const auto& npy = dynamic_cast<const NpyDataset&>(*dataset);
  for (int64_t j = 0; j < 3; ++j) {
    EXPECT_NEAR(npy.feature_mean()[j].item<double>(), expected[j], 1e-5 * std::abs(expected[j]));
    EXPECT_NEAR(npy.feature_std()[j].item<double>(), expected[3 + j], 1e-5 * expected[3 + j]);
  }
  EXPECT_LT(npy.data().mean(0).abs().max().item<double>(), 1e-5);
  const torch::Tensor population_std = (npy.data() - npy.data().mean(0)).square().mean(0).sqrt();
  EXPECT_LT((population_std - 1).abs().max().item<double>(), 1e-5);
}

TEST(NpyDataset, KeepsTheSampleShapeOfImageArrays) {
  testing::TempDir dir;
  write_files(dir);
  auto dataset = make_dataset("type: npy\npath: " + dir.file("img.npy") + "\n");
  EXPECT_EQ(dataset->sample_shape(), (std::vector<int64_t>{1, 2, 3}));
  at::Generator gen = make_generator(0);
  const torch::Tensor x = dataset->sample(7, gen).x;
  EXPECT_EQ(x.sizes(), torch::IntArrayRef({7, 1, 2, 3}));
  // Every sample is one of the stored images: its first pixel is 6 k, the rest follow.
  const torch::Tensor first = x.reshape({7, 6}).select(1, 0);
  EXPECT_TRUE(torch::equal(x.reshape({7, 6}) - first.unsqueeze(1), torch::arange(6, torch::kFloat32).expand({7, 6})));
}

TEST(NpyDataset, MissingFilesNameTheKeyAndTheFile) {
  testing::TempDir dir;
  write_files(dir);
  const std::string missing = dir.file("nope.npy");
  const std::string message = thrown_message<ConfigError>([&] { make_dataset("type: npy\npath: " + missing + "\n"); });
  EXPECT_NE(message.find("path:"), std::string::npos) << message;
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  const std::string labels = thrown_message<ConfigError>(
      [&] { make_dataset("type: npy\npath: " + dir.file("x.npy") + "\nlabels: " + missing + "\n"); });
  EXPECT_NE(labels.find("labels:"), std::string::npos) << labels;
  EXPECT_NE(labels.find(missing), std::string::npos) << labels;
}

TEST(NpyDataset, MismatchedLabelsAreRejected) {
  testing::TempDir dir;
  write_files(dir);
  // 40 labels would be needed for img.npy's 40 images; y.npy has 500. The error names both files.
  try {
    make_dataset("type: npy\npath: " + dir.file("img.npy") + "\nlabels: " + dir.file("y.npy") + "\n");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("img.npy") + " with labels " + dir.file("y.npy")), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("labels must be [N] = [40]"), std::string::npos) << e.what();
  }
  // Float data as labels.
  EXPECT_THROW(make_dataset("type: npy\npath: " + dir.file("x.npy") + "\nlabels: " + dir.file("x.npy") + "\n"), Error);
}

}  // namespace
}  // namespace flowlab::data
