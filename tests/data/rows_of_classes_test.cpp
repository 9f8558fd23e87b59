// Deterministic held-out rows by class, and which datasets have a test split.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/data/condition.h"
#include "flowlab/data/dataset.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::data {
namespace {

// A finite labelled dataset whose point r is the number r, with label labels[r].
class Numbered : public Dataset {
 public:
  explicit Numbered(std::vector<int64_t> labels, int64_t classes) : labels_(std::move(labels)), classes_(classes) {}
  std::vector<int64_t> sample_shape() const override { return {1}; }
  Batch sample(int64_t, at::Generator&) const override { throw std::logic_error("not drawn"); }
  int64_t num_classes() const override { return classes_; }
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  Batch rows(int64_t begin, int64_t end) const override {
    return Batch{torch::arange(begin, end, torch::kFloat32).unsqueeze(1),
                 torch::tensor(std::vector<int64_t>(labels_.begin() + begin, labels_.begin() + end), torch::kLong)};
  }

 private:
  std::vector<int64_t> labels_;
  int64_t classes_;
};

TEST(RowsOfClasses, NextUnusedRowOfEachClassInStoredOrderCycling) {
  const Numbered data({1, 0, 1, 2, 0, 1}, 3);
  // Class 1 sits at rows 0, 2, 5; class 0 at 1, 4; class 2 at 3; the null class takes rows in order.
  const torch::Tensor labels =
      torch::tensor(std::vector<int64_t>{1, 1, 0, 2, 1, 1, 2, kNullClass, kNullClass, 0, 0}, torch::kLong);
  const torch::Tensor rows = rows_of_classes(data, labels).squeeze(1).to(torch::kLong);
  const std::vector<int64_t> expected{0, 2, 1, 3, 5, 0, 3, 0, 1, 4, 1};
  EXPECT_TRUE(torch::equal(rows, torch::tensor(expected, torch::kLong))) << rows;
}

TEST(RowsOfClasses, BadLabelsAndEndlessDataAreErrors) {
  const Numbered data({1, 1}, 3);
  testing::expect_error([&] { rows_of_classes(data, torch::tensor({0}, torch::kLong)); }, {"no point of class 0"});
  testing::expect_error([&] { rows_of_classes(data, torch::tensor({3}, torch::kLong)); }, {"label 3", "3 classes"});
  config::Node toy = config::Node::parse("{type: toy2d, name: moons}", "data.yaml");
  register_builtin_datasets();
  const auto moons = dataset_registry().create(toy);
  testing::expect_error([&] { rows_of_classes(*moons, torch::tensor({0}, torch::kLong)); }, {"endless"});
}

TEST(TestSplit, DatasetsWithATestSplitGiveItAndOthersNone) {
  const auto split_of = [](const std::string& yaml) -> std::string {
    const std::optional<config::Node> test = test_split_config(config::Node::parse(yaml, "data.yaml"));
    if (!test) return "none";
    config::Node copy = test->clone();
    return copy.require<std::string>("split") + " " + copy.require<std::string>("type");
  };
  EXPECT_EQ(split_of("{type: fashion_mnist, shape: image}"), "test fashion_mnist");
  EXPECT_EQ(split_of("{type: cifar10, dir: x, split: train}"), "test cifar10");
  EXPECT_EQ(split_of("{type: image_folder, path: x, split: train}"), "test image_folder");
  // Training on all of a folder, or on a test split, leaves nothing held out.
  EXPECT_EQ(split_of("{type: image_folder, path: x}"), "none");
  EXPECT_EQ(split_of("{type: fashion_mnist, split: test}"), "none");
  EXPECT_EQ(split_of("{type: toy2d, name: moons}"), "none");
  EXPECT_EQ(split_of("{type: npy, path: x.npy}"), "none");
}

}  // namespace
}  // namespace flowlab::data
