// f-distill's pieces: h(r) = f''(r) r^2 by finite differences, distill_ot.md 8.12's normalised
// weights, DMD2's gradient reproduced bit for bit, the discriminator's optimum log(p/q) on two
// Gaussians, the per-time-bin ratio normalisation by hand, and an affine generator matched to
// a Gaussian teacher through closed-form data estimates.
#include "flowlab/distill/f_divergence.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/core/error.h"

namespace flowlab::distill {
namespace {

torch::Tensor doubles(std::initializer_list<double> values) {
  return torch::tensor(std::vector<double>(values), torch::kFloat64);
}

TEST(FDivergence, WeightIsSecondDerivativeTimesRatioSquared) {
  const torch::Tensor r = doubles({0.1, 0.5, 1.0, 2.0, 20.0});
  for (const std::string& name : divergence_names()) {
    SCOPED_TRACE(name);
    const Divergence d = divergence_from_name(name);
    EXPECT_EQ(divergence_name(d), name);
    // Central second difference with a step relative to r: error O(step^2) ~ 1e-8 relative.
    const torch::Tensor step = 1e-4 * r;
    const torch::Tensor second =
        (f_of_ratio(d, r + step) - 2 * f_of_ratio(d, r) + f_of_ratio(d, r - step)) / (step * step);
    EXPECT_TRUE(torch::allclose(weight_of_ratio(d, r), second * r * r, 1e-5, 1e-8))
        << weight_of_ratio(d, r) << "\n" << second * r * r;
    // Every f is a divergence generator: f(1) = 0.
    EXPECT_NEAR(f_of_ratio(d, doubles({1.0})).item<double>(), 0.0, 1e-15);
  }
  EXPECT_THROW(divergence_from_name("kl"), Error);
}

TEST(FDivergence, NormalisedWeightsMatchTheReferenceValues) {
  const torch::Tensor r = doubles({0.1, 0.5, 1.0, 2.0, 20.0});
  const auto normalised = [&](Divergence d) {
    const torch::Tensor h = weight_of_ratio(d, r);
    return h / h.mean();
  };
  const torch::Tensor js = weight_of_ratio(Divergence::kJensenShannon, r);
  EXPECT_TRUE(torch::allclose(js, doubles({0.090909, 0.333333, 0.5, 0.666667, 0.952381}), 0, 1e-6));
  EXPECT_TRUE(torch::allclose(normalised(Divergence::kJensenShannon),
                              doubles({0.178723, 0.655319, 0.982979, 1.310638, 1.872340}), 0, 1e-6));
  EXPECT_TRUE(torch::allclose(normalised(Divergence::kForwardKl),
                              doubles({0.021186, 0.105932, 0.211864, 0.423729, 4.237288}), 0, 1e-6));
  EXPECT_TRUE(torch::equal(normalised(Divergence::kReverseKl), torch::ones_like(r)));
}

TEST(FDivergence, RatioIsExpOfTheMeanLogitWithinTheReferenceBounds) {
  const torch::Tensor logits = doubles({0.0, 1.0, -1.0, -5.0, 12.0}).unsqueeze(1).repeat({1, 4});
  EXPECT_TRUE(torch::allclose(ratio_from_logits(logits), doubles({1.0, std::exp(1.0), std::exp(-1.0), 0.1, 20.0})));
  // Logits per location [B, 1, 2, 2]: their mean per sample.
  const torch::Tensor map = doubles({0.0, 1.0, 2.0, 3.0}).view({1, 1, 2, 2});
  EXPECT_NEAR(ratio_from_logits(map).item<double>(), std::exp(1.5), 1e-12);
}

// DMD2 (tianweiy/DMD2, edm_guidance.py), with f-distill's 1e-6 floor on the normaliser:
// grad = (p_real - p_fake) / (mean |p_real| + 1e-6), p = x - x1_hat, loss 0.5 mse(x, sg(x - grad)).
torch::Tensor dmd2_gradient(const torch::Tensor& x_value, const torch::Tensor& x1_fake, const torch::Tensor& x1_real) {
  torch::Tensor x = x_value.clone().requires_grad_(true);
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor p_real = x - x1_real, p_fake = x - x1_fake;
    const torch::Tensor normaliser = p_real.abs().mean({1, 2, 3}, /*keepdim=*/true) + 1e-6;
    target = x - (p_real - p_fake) / normaliser;
  }
  (0.5 * torch::mse_loss(x, target)).backward();
  return x.grad();
}

TEST(FDivergence, ReverseKlLossHasDmd2sGradientBitForBit) {
  torch::manual_seed(0);
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor x0 = torch::randn({5, 3, 4, 4}, options);
  const torch::Tensor x1_fake = torch::randn({5, 3, 4, 4}, options), x1_teacher = torch::randn({5, 3, 4, 4}, options);
  torch::Tensor x = x0.clone().requires_grad_(true);
  distribution_matching_loss(x, x1_fake, x1_teacher, torch::ones({5}, options)).backward();
  EXPECT_TRUE(torch::equal(x.grad(), dmd2_gradient(x0, x1_fake, x1_teacher)));
  // Other weights scale each sample's gradient.
  torch::Tensor y = x0.clone().requires_grad_(true);
  const torch::Tensor h = doubles({0.5, 1.0, 2.0, 0.0, 3.0});
  distribution_matching_loss(y, x1_fake, x1_teacher, h).backward();
  EXPECT_TRUE(torch::allclose(y.grad(), x.grad() * h.view({5, 1, 1, 1}), 1e-10, 1e-15));
}

// The non-saturating loss is minimised by l = log(p_real / p_fake): for N(1, 1) against N(-1, 1)
// that is l(x) = 2x, which a small network learns from samples.
TEST(FDivergence, DiscriminatorLearnsTheLogDensityRatio) {
  torch::manual_seed(1);
  torch::nn::Sequential head(torch::nn::Linear(1, 16), torch::nn::SiLU(), torch::nn::Linear(16, 1));
  torch::optim::Adam adam(head->parameters(), torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 1500; ++step) {
    const torch::Tensor real = torch::randn({512, 1}) + 1.0, fake = torch::randn({512, 1}) - 1.0;
    adam.zero_grad();
    discriminator_loss(head->forward(real), head->forward(fake)).backward();
    adam.step();
  }
  // The generator's term pushes the fake logit up: its gradient in l is -sigmoid(-l) / B < 0.
  torch::Tensor l = torch::zeros({4}, torch::kFloat64).requires_grad_(true);
  generator_gan_loss(l).backward();
  EXPECT_TRUE(torch::allclose(l.grad(), torch::full({4}, -0.125, torch::kFloat64)));
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::tensor({-1.0f, -0.5f, 0.0f, 0.5f, 1.0f}).unsqueeze(1);
  const torch::Tensor logit = head->forward(x).squeeze(1);
  EXPECT_TRUE(torch::allclose(logit, 2 * x.squeeze(1), 0, 0.25)) << logit;
  EXPECT_TRUE(torch::allclose(ratio_from_logits(logit), torch::exp(2 * x.squeeze(1)), 0.3, 0)) << logit;
}

TEST(FDivergence, RatioNormaliserDividesByTheMeanOfEachTimeBin) {
  RatioNormaliser normaliser(/*bins=*/2, /*ema=*/0.5, /*t_min=*/0.0, /*t_max=*/1.0);
  const torch::Tensor t = doubles({0.1, 0.2, 0.7, 0.8});
  // Bin means 2 and 4 (first sight: the batch mean, no decay from 0).
  const torch::Tensor first = normaliser.normalise(doubles({1.0, 3.0, 2.0, 6.0}), t);
  EXPECT_TRUE(torch::allclose(first, doubles({1.0 / (2 + 1e-6), 3.0 / (2 + 1e-6), 2.0 / (4 + 1e-6), 6.0 / (4 + 1e-6)})));
  // Second batch only in bin 0 (mean 6): its EMA is 0.5 * 2 + 0.5 * 6 = 4; bin 1 keeps 4.
  const torch::Tensor second = normaliser.normalise(doubles({6.0, 6.0}), doubles({0.0, 0.49}));
  EXPECT_TRUE(torch::allclose(second, doubles({6.0 / (4 + 1e-6), 6.0 / (4 + 1e-6)})));
  EXPECT_TRUE(torch::allclose(normaliser.means(), doubles({4.0, 4.0})));
  // Times outside the range fall into the end bins; the state round-trips.
  RatioNormaliser restored(2, 0.5, 0.0, 1.0);
  restored.load(normaliser.means(), normaliser.seen());
  EXPECT_TRUE(torch::allclose(restored.normalise(doubles({8.0}), doubles({1.5})), doubles({8.0 / (6 + 1e-6)})));
}

// The data estimate E[x1 | x_t] of N(m, S) data on x_t = (1 - t) x0 + t x1, x0 ~ N(0, I):
// m + t S (t^2 S + (1 - t)^2 I)^-1 (x_t - t m), per sample (t [B], x [B, d]).
torch::Tensor gaussian_data_estimate(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& m,
                                     const torch::Tensor& s) {
  const int64_t d = m.size(0);
  const torch::Tensor tt = t.view({-1, 1, 1});
  const torch::Tensor cov = tt * tt * s + (1 - tt) * (1 - tt) * torch::eye(d, m.options());
  const torch::Tensor gain = tt * torch::matmul(s, torch::linalg_inv(cov));  // [B, d, d]
  return m + torch::matmul(gain, (x - t.unsqueeze(1) * m).unsqueeze(-1)).squeeze(-1);
}

// An affine generator G(z) = A z + b matched to a Gaussian teacher by reverse KL (h = 1) with
// exact teacher and fake data estimates converges to the teacher's mean and covariance.
TEST(FDivergence, AffineGeneratorMatchesAGaussianTeacher) {
  torch::manual_seed(2);
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor m = doubles({1.0, -2.0});
  const torch::Tensor s = doubles({2.0, 0.6, 0.6, 0.5}).view({2, 2});
  torch::Tensor a = torch::eye(2, options).requires_grad_(true);
  torch::Tensor b = torch::zeros({2}, options).requires_grad_(true);
  torch::optim::Adam adam({a, b}, torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 3000; ++step) {
    const torch::Tensor z = torch::randn({256, 2}, options);
    const torch::Tensor x = torch::matmul(z, a.t()) + b;
    torch::Tensor x1_teacher, x1_fake;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor t = 0.02 + 0.96 * torch::rand({256}, options);
      const torch::Tensor x_t = (1 - t).unsqueeze(1) * torch::randn({256, 2}, options) + t.unsqueeze(1) * x;
      x1_teacher = gaussian_data_estimate(x_t, t, m, s);
      x1_fake = gaussian_data_estimate(x_t, t, b, torch::matmul(a, a.t()));
    }
    adam.zero_grad();
    distribution_matching_loss(x, x1_fake, x1_teacher, torch::ones({256}, options)).backward();
    adam.step();
  }
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(b, m, 0, 0.05)) << b;
  EXPECT_TRUE(torch::allclose(torch::matmul(a, a.t()), s, 0, 0.1)) << torch::matmul(a, a.t());
}

}  // namespace
}  // namespace flowlab::distill
