// Models: what each output predicts, two fields as two networks or two heads.
#include "flowlab/nn/model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/core/error.h"

namespace flowlab::nn {
namespace {

std::shared_ptr<Model> build_model(const std::string& yaml, const SampleShape& shape) {
  register_builtin_networks();  // idempotent
  config::Node node = config::Node::parse(yaml, "model.yaml");
  return std::make_shared<Model>(node, shape);
}

int64_t parameter_count(torch::nn::Module& m) {
  int64_t count = 0;
  for (const auto& p : m.parameters()) count += p.numel();
  return count;
}

TEST(Model, OneFieldDefaultsToVelocity) {
  auto model = build_model("type: mlp\nhidden: [8]\ntime_embedding: {dim: 4}\n", {2});
  ASSERT_EQ(model->predictions().size(), 1u);
  EXPECT_EQ(model->predictions()[0], paths::Prediction::kVelocity);
  const auto out = model->forward(torch::randn({3, 2}), torch::rand({3}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(parameter_count(*model), (6 * 8 + 8) + (8 * 2 + 2));
}

TEST(Model, TwoFieldsAsSeparateNetworks) {
  auto model = build_model("type: mlp\nhidden: [8]\ntime_embedding: {dim: 4}\npredicts: interpolant_velocity\n"
                     "also_predicts: denoiser\n",
                     {1, 2, 2});
  ASSERT_EQ(model->predictions().size(), 2u);
  EXPECT_EQ(model->predictions()[1], paths::Prediction::kDenoiser);
  const auto out = model->forward(torch::randn({3, 1, 2, 2}), torch::rand({3}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first, paths::Prediction::kInterpolantVelocity);
  EXPECT_EQ(out[1].second.sizes(), (std::vector<int64_t>{3, 1, 2, 2}));
  EXPECT_FALSE(torch::allclose(out[0].second, out[1].second));  // independently initialised
  EXPECT_EQ(parameter_count(*model), 2 * ((8 * 8 + 8) + (8 * 4 + 4)));
}

TEST(Model, TwoFieldsAsHeadsOnOneTrunk) {
  auto model = build_model("type: mlp\nhidden: [8]\ntime_embedding: {dim: 4}\nalso_predicts: score\nheads: shared\n", {2});
  // One trunk; the output layer has two heads of 2 features each.
  EXPECT_EQ(parameter_count(*model), (6 * 8 + 8) + (8 * 4 + 4));
  const auto x = torch::randn({5, 2});
  const auto t = torch::rand({5});
  const auto out = model->forward(x, t);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].first, paths::Prediction::kScore);
  EXPECT_EQ(out[0].second.sizes(), x.sizes());
  EXPECT_EQ(out[1].second.sizes(), x.sizes());
}

TEST(Model, BadFieldChoicesAreConfigErrors) {
  EXPECT_THROW(build_model("type: mlp\npredicts: velocty\n", {2}), ConfigError);
  EXPECT_THROW(build_model("type: mlp\nalso_predicts: velocity\n", {2}), ConfigError);  // the same field twice
  EXPECT_THROW(build_model("type: mlp\nalso_predicts: score\nheads: three\n", {2}), ConfigError);
  EXPECT_THROW(build_model("type: mlp\nhedas: shared\n", {2}), ConfigError);
}

}  // namespace
}  // namespace flowlab::nn
