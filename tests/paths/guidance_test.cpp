// Classifier-free guidance as a model combinator, checked on an analytic conditional model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/paths/cond_ot.h"
#include "flowlab/paths/fields.h"

namespace flowlab::paths {
namespace {

// f(x, t | k) = (k + 1) x + t for class k, f(x, t | null) = -x; every call is counted.
struct CountingModel {
  int calls = 0;
  std::vector<int64_t> batch_sizes;
  Predictions operator()(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& c) {
    ++calls;
    batch_sizes.push_back(x.size(0));
    EXPECT_FALSE(c.empty());
    const torch::Tensor k = c.labels.to(x.dtype()).unsqueeze(1);
    const torch::Tensor conditional = (k + 1) * x + t.unsqueeze(1);
    const torch::Tensor out = torch::where(c.labels.unsqueeze(1) < 0, -x, conditional);
    return {{Prediction::kVelocity, out}, {Prediction::kScore, 2 * out}};
  }
};

TEST(Guidance, CombinesEveryFieldFromOneDoubledForwardPass) {
  auto counter = std::make_shared<CountingModel>();
  const ModelFn model = [counter](const torch::Tensor& x, const torch::Tensor& t, const data::Condition& c) {
    return (*counter)(x, t, c);
  };
  const torch::Tensor x = torch::randn({5, 2}, torch::kFloat64), t = torch::rand({5}, torch::kFloat64);
  const data::Condition c{torch::tensor({0, 1, 2, 1, 0}, torch::kLong)};
  const torch::Tensor k = c.labels.to(torch::kFloat64).unsqueeze(1);
  const torch::Tensor f_c = (k + 1) * x + t.unsqueeze(1), f_u = -x;
  for (double w : {0.0, 1.0, 2.5, -0.5}) {
    counter->calls = 0;
    counter->batch_sizes.clear();
    const Predictions out = guided(model, w)(x, t, c);
    ASSERT_EQ(out.size(), 2u);
    const torch::Tensor expected = f_u + w * (f_c - f_u);
    EXPECT_TRUE(torch::allclose(out[0].second, expected, 1e-12, 1e-12)) << w;
    EXPECT_TRUE(torch::allclose(out[1].second, 2 * expected, 1e-12, 1e-12)) << w;
    EXPECT_EQ(out[0].first, Prediction::kVelocity);
    EXPECT_EQ(counter->calls, 1) << w;  // one pass: [x; x] for w other than 0 and 1, else x alone
    EXPECT_EQ(counter->batch_sizes[0], (w == 0.0 || w == 1.0) ? 5 : 10) << w;
  }
  // Without a condition the guided model is the unconditional one.
  const Predictions plain = guided(model, 3.0)(x, t, {});
  EXPECT_TRUE(torch::allclose(plain[0].second, f_u));
}

// The path's conversion to a velocity is affine in the prediction, so guiding a noise-predicting
// model and then converting equals guiding the converted velocities.
TEST(Guidance, CommutesWithThePathsConversionToTheVelocity) {
  CondOTPath path;
  const ModelFn noise_model = [](const torch::Tensor& x, const torch::Tensor& t, const data::Condition& c) {
    const torch::Tensor k = c.labels.to(x.dtype()).clamp_min(-1).unsqueeze(1);
    return Predictions{{Prediction::kNoise, torch::sin(x * (k + 2)) + t.unsqueeze(1)}};
  };
  const std::vector<Prediction> kinds{Prediction::kNoise};
  const torch::Tensor x = torch::randn({6, 2}, torch::kFloat64), t = 0.1 + 0.8 * torch::rand({6}, torch::kFloat64);
  const data::Condition c{torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong)};
  const double w = 3.0;
  const torch::Tensor guided_velocity = velocity_field(guided(noise_model, w), kinds, path, c)(x, t);
  const torch::Tensor b_c = velocity_field(noise_model, kinds, path, c)(x, t);
  const torch::Tensor b_u = velocity_field(noise_model, kinds, path, data::null_condition(6))(x, t);
  EXPECT_TRUE(torch::allclose(guided_velocity, b_u + w * (b_c - b_u), 1e-10, 1e-10));
}

}  // namespace
}  // namespace flowlab::paths
