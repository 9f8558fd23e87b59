#include "flowlab/data/gaussian_mixture.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "data/data_test_util.h"
#include "flowlab/core/error.h"
#include "support/helpers.h"

namespace flowlab::data {
namespace {

using data_test::make_dataset;
using data_test::thrown_message;

torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

// A 3-D, 3-component mixture with full, unequal covariances.
GaussianMixture make_3d_mixture() {
  at::Generator gen = make_generator(11);
  const torch::Tensor weights = torch::tensor({0.2, 0.5, 0.3}, f64());
  const torch::Tensor means = torch::tensor({0.0, 0.0, 0.0, 2.0, -1.0, 0.5, -1.5, 1.0, 2.0}, f64()).reshape({3, 3});
  const torch::Tensor a = torch::randn({3, 3, 3}, gen, f64());
  const torch::Tensor covariances = torch::matmul(a, a.transpose(1, 2)) + 0.3 * torch::eye(3, f64());
  return GaussianMixture(weights, means, covariances);
}

std::string python_list(const torch::Tensor& t) {
  std::ostringstream out;
  out.precision(17);
  const torch::Tensor flat = t.to(torch::kFloat64).contiguous().reshape({-1});
  out << "np.array([";
  for (int64_t i = 0; i < flat.numel(); ++i) out << (i ? ", " : "") << flat[i].item<double>();
  out << "])";
  return out.str();
}

// Values printed one per line after a "RESULT" marker.
std::vector<double> parse_result(const std::string& output) {
  std::istringstream in(output.substr(output.find("RESULT") + 6));
  std::vector<double> values;
  for (double v; in >> v;) values.push_back(v);
  return values;
}

TEST(GaussianMixture, LogProbMatchesScipy) {
  const GaussianMixture mixture = make_3d_mixture();
  at::Generator gen = make_generator(3);
  const torch::Tensor x = 2.0 * torch::randn({40, 3}, gen, f64());
  const std::string script =
      "import numpy as np\n"
      "from scipy.stats import multivariate_normal\n"
      "w = " + python_list(mixture.weights()) + "\n"
      "mu = " + python_list(mixture.means()) + ".reshape(3, 3)\n"
      "cov = " + python_list(mixture.covariances()) + ".reshape(3, 3, 3)\n"
      "x = " + python_list(x) + ".reshape(-1, 3)\n"
      "p = sum(w[k] * multivariate_normal(mu[k], cov[k]).pdf(x) for k in range(3))\n"
      "print('RESULT')\n"
      "for v in np.log(p): print(repr(float(v)))\n";
  const std::vector<double> expected = parse_result(testing::run_python(script));
  ASSERT_EQ(expected.size(), 40u);
  const torch::Tensor got = mixture.log_prob(x);
  ASSERT_EQ(got.sizes(), torch::IntArrayRef({40}));
  EXPECT_EQ(got.scalar_type(), torch::kFloat64);
  for (int64_t i = 0; i < 40; ++i) {
    const double want = expected[static_cast<std::size_t>(i)];
    EXPECT_NEAR(got[i].item<double>(), want, 1e-6 * std::max(1.0, std::abs(want))) << "point " << i;
  }
  // float32 in, float32 out, same values to float precision.
  const torch::Tensor got32 = mixture.log_prob(x.to(torch::kFloat32));
  EXPECT_EQ(got32.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(got32.to(torch::kFloat64), got, 1e-5, 1e-5));
}

TEST(GaussianMixture, ScoreEqualsAutogradAndFiniteDifferencesOfLogProb) {
  const GaussianMixture mixture = make_3d_mixture();
  at::Generator gen = make_generator(4);
  const torch::Tensor x = 2.0 * torch::randn({25, 3}, gen, f64());
  const torch::Tensor score = mixture.score(x);
  ASSERT_EQ(score.sizes(), x.sizes());

  const torch::Tensor leaf = x.clone().requires_grad_(true);
  mixture.log_prob(leaf).sum().backward();
  EXPECT_TRUE(torch::allclose(score, leaf.grad(), 1e-9, 1e-10))
      << "max difference " << (score - leaf.grad()).abs().max().item<double>();

  const double h = 1e-5;
  for (int64_t j = 0; j < 3; ++j) {
    const torch::Tensor step = torch::zeros({1, 3}, f64()).index_fill_(1, torch::tensor({j}), h);
    const torch::Tensor difference = (mixture.log_prob(x + step) - mixture.log_prob(x - step)) / (2 * h);
    const torch::Tensor error = (difference - score.select(1, j)).abs();
    EXPECT_LT((error / score.select(1, j).abs().clamp_min(1.0)).max().item<double>(), 1e-6) << "coordinate " << j;
  }
}

TEST(GaussianMixture, ScoreOfOneGaussianIsMinusPrecisionTimesOffset) {
  const torch::Tensor cov = torch::tensor({2.0, 0.5, 0.5, 1.0}, f64()).reshape({1, 2, 2});
  const torch::Tensor mean = torch::tensor({1.0, -1.0}, f64()).reshape({1, 2});
  const GaussianMixture gaussian(torch::ones({1}, f64()), mean, cov);
  const torch::Tensor x = torch::tensor({0.3, 0.7, -2.0, 4.0}, f64()).reshape({2, 2});
  const torch::Tensor expected = -torch::matmul(x - mean, torch::inverse(cov[0]));
  EXPECT_TRUE(torch::allclose(gaussian.score(x), expected, 1e-12, 1e-12));
}

TEST(GaussianMixture, SampleMomentsMatchTheClosedForm) {
  const GaussianMixture mixture = make_3d_mixture();
  const int64_t n = 400000;
  at::Generator gen = make_generator(99);
  const Batch batch = mixture.sample(n, gen);
  ASSERT_EQ(batch.x.sizes(), torch::IntArrayRef({n, 3}));
  EXPECT_EQ(batch.x.scalar_type(), torch::kFloat32);
  // Labelled by component (LabelsAreTheComponents checks which).
  ASSERT_TRUE(batch.label.defined());
  EXPECT_EQ(batch.label.max().item<int64_t>(), mixture.num_components() - 1);
  const torch::Tensor x = batch.x.to(torch::kFloat64);

  // Every comparison within 5 standard errors estimated from the same samples.
  const torch::Tensor mean = mixture.mean(), cov = mixture.covariance();
  const torch::Tensor sample_mean = x.mean(0);
  const torch::Tensor mean_se = torch::sqrt(torch::diagonal(cov) / n);
  EXPECT_TRUE(((sample_mean - mean).abs() < 5 * mean_se).all().item<bool>())
      << "sample mean " << sample_mean << "\nexpected " << mean;

  const torch::Tensor centred = x - mean;
  const torch::Tensor products = centred.unsqueeze(2) * centred.unsqueeze(1);  // [n, 3, 3]
  const torch::Tensor sample_cov = products.mean(0);
  const torch::Tensor cov_se = products.std(0) / std::sqrt(static_cast<double>(n));
  EXPECT_TRUE(((sample_cov - cov).abs() < 5 * cov_se).all().item<bool>())
      << "sample covariance " << sample_cov << "\nexpected " << cov;

  // The closed-form moments themselves: law of total covariance, computed independently.
  torch::Tensor expected_cov = torch::zeros({3, 3}, f64());
  for (int64_t k = 0; k < 3; ++k) {
    const double w = mixture.weights()[k].item<double>();
    const torch::Tensor d = mixture.means()[k] - mean;
    expected_cov += w * (mixture.covariances()[k] + torch::outer(d, d));
  }
  EXPECT_TRUE(torch::allclose(cov, expected_cov, 1e-12, 1e-12));
}

TEST(GaussianMixture, SamplesFallIntoComponentsByWeight) {
  // Far-apart 1-D components: the component of each sample is unambiguous.
  const GaussianMixture mixture(torch::tensor({0.1, 0.6, 0.3}, f64()),
                                torch::tensor({-100.0, 0.0, 100.0}, f64()).reshape({3, 1}),
                                torch::ones({3, 1, 1}, f64()));
  const int64_t n = 50000;
  at::Generator gen = make_generator(1);
  const torch::Tensor x = mixture.sample(n, gen).x.squeeze(1);
  const double low = (x < -50).sum().item<double>(), high = (x > 50).sum().item<double>();
  EXPECT_NEAR(low, 0.1 * n, data_test::binomial_tolerance(n, 0.1));
  EXPECT_NEAR(high, 0.3 * n, data_test::binomial_tolerance(n, 0.3));
}

TEST(GaussianMixture, SameSeedSameSamples) {
  const GaussianMixture mixture = make_3d_mixture();
  at::Generator a = make_generator(8), b = make_generator(8), c = make_generator(9);
  const torch::Tensor xa = mixture.sample(500, a).x;
  EXPECT_TRUE(torch::equal(xa, mixture.sample(500, b).x));
  EXPECT_FALSE(torch::equal(xa, mixture.sample(500, c).x));
}

TEST(GaussianMixture, ConfigBuildsTheSameMixtureAsTensors) {
  auto dataset = make_dataset(
      "type: gaussian_mixture\n"
      "dim: 2\n"
      "means: [-2, 0, 2, 1]\n"
      "weights: [0.25, 0.75]\n"
      "covariances: [1, 0.5, 0.5, 2,   0.5, -0.1, -0.1, 0.3]\n");
  const auto* from_config = dynamic_cast<const GaussianMixture*>(dataset.get());
  ASSERT_NE(from_config, nullptr);
  EXPECT_EQ(from_config->sample_shape(), (std::vector<int64_t>{2}));
  const torch::Tensor covariances =
      torch::tensor({1.0, 0.5, 0.5, 2.0, 0.5, -0.1, -0.1, 0.3}, f64()).reshape({2, 2, 2});
  const GaussianMixture from_tensors(torch::tensor({0.25, 0.75}, f64()),
                                     torch::tensor({-2.0, 0.0, 2.0, 1.0}, f64()).reshape({2, 2}), covariances);
  EXPECT_TRUE(torch::equal(from_config->covariances(), covariances));
  at::Generator gen = make_generator(2);
  const torch::Tensor x = 3.0 * torch::randn({50, 2}, gen, f64());
  EXPECT_TRUE(torch::allclose(from_config->log_prob(x), from_tensors.log_prob(x), 1e-14, 1e-14));
}

TEST(GaussianMixture, IsotropicStdsAndDefaults) {
  auto dataset = make_dataset("type: gaussian_mixture\ndim: 3\nmeans: [0, 0, 0, 1, 1, 1]\nstds: [0.5, 2]\n");
  const auto& mixture = dynamic_cast<const GaussianMixture&>(*dataset);
  EXPECT_TRUE(torch::equal(mixture.weights(), torch::tensor({0.5, 0.5}, f64())));
  EXPECT_TRUE(torch::equal(mixture.covariances()[0], 0.25 * torch::eye(3, f64())));
  EXPECT_TRUE(torch::equal(mixture.covariances()[1], 4.0 * torch::eye(3, f64())));

  auto identity = make_dataset("type: gaussian_mixture\ndim: 2\nmeans: [0, 0]\n");
  const auto& standard = dynamic_cast<const GaussianMixture&>(*identity);
  // A standard normal: log p(0) = -log(2 pi), score(x) = -x.
  const torch::Tensor x = torch::tensor({0.0, 0.0, 1.0, -2.0}, f64()).reshape({2, 2});
  EXPECT_NEAR(standard.log_prob(x)[0].item<double>(), -std::log(2.0 * M_PI), 1e-14);
  EXPECT_TRUE(torch::allclose(standard.score(x), -x));
}

struct BadConfig {
  std::string yaml;   // keys under a "data:" section
  std::string key;    // the key path the message must name
  std::string words;  // and a phrase it must contain
};

TEST(GaussianMixture, BadConfigsGiveConfigErrorsNamingTheKey) {
  const std::vector<BadConfig> cases = {
      {"dim: 2\nmeans: [0, 0, 1, 1]\ncovariances: [1, 2, 2, 1, 1, 0, 0, 1]\n", "data.covariances",
       "covariance 0 (counting from 0) is not positive definite"},
      {"dim: 2\nmeans: [0, 0]\ncovariances: [1, 0.5, 0.4, 1]\n", "data.covariances", "not symmetric"},
      {"dim: 2\nmeans: [0, 0, 1, 1]\nweights: [0.5, 0.4]\n", "data.weights", "sum to 1"},
      {"dim: 2\nmeans: [0, 0, 1, 1]\nweights: [1.5, -0.5]\n", "data.weights", ">= 0"},
      {"dim: 2\nmeans: [0, 0, 1, 1]\nweights: [0.2, 0.3, 0.5]\n", "data.weights", "one weight per component (K = 2"},
      {"dim: 2\nmeans: [0, 0, 1]\n", "data.means", "K*dim numbers (dim = 2)"},
      {"dim: 0\nmeans: [0]\n", "data.dim", "an integer > 0"},
      {"dim: 2\n", "data.means", "missing required key"},
      {"dim: 2\nmeans: [0, 0, 1, 1]\ncovariances: [1, 0, 0, 1]\n", "data.covariances", "K*dim*dim = 8 numbers"},
      {"dim: 2\nmeans: [0, 0, 1, 1]\nstds: [1, 2, 3]\n", "data.stds", "one per component"},
      {"dim: 2\nmeans: [0, 0]\nstds: [0]\n", "data.stds", "numbers > 0"},
      {"dim: 2\nmeans: [0, 0]\nstds: [1]\ncovariances: [1, 0, 0, 1]\n", "data.stds", "not both"},
      {"dim: 2\nmeans: [[0, 0], [1, 1]]\n", "data.means", "a list of numbers"},
  };
  data_test::ensure_datasets_registered();
  for (const BadConfig& c : cases) {
    SCOPED_TRACE(c.yaml);
    std::string indented;
    std::istringstream lines(c.yaml);
    for (std::string line; std::getline(lines, line);) indented += "  " + line + "\n";
    config::Node root = config::Node::parse("data:\n  type: gaussian_mixture\n" + indented, "gm.yaml");
    const std::string message = thrown_message<ConfigError>([&] {
      config::Node section = root.section("data");
      dataset_registry().create(section);
    });
    EXPECT_NE(message.find(c.key + ":"), std::string::npos) << message;
    EXPECT_NE(message.find(c.words), std::string::npos) << message;
    EXPECT_NE(message.find("gm.yaml:"), std::string::npos) << message;
  }
}

TEST(GaussianMixture, BadTensorsAreRejected) {
  const torch::Tensor w = torch::tensor({1.0}, f64()), mu = torch::zeros({1, 2}, f64());
  const torch::Tensor not_pd = torch::tensor({1.0, 2.0, 2.0, 1.0}, f64()).reshape({1, 2, 2});
  EXPECT_THROW(GaussianMixture(w, mu, not_pd), c10::Error);
  EXPECT_THROW(GaussianMixture(w, mu, torch::eye(3, f64()).unsqueeze(0)), c10::Error);
  EXPECT_THROW(GaussianMixture(torch::tensor({0.5}, f64()), mu, torch::eye(2, f64()).unsqueeze(0)), c10::Error);
  const GaussianMixture ok(w, mu, torch::eye(2, f64()).unsqueeze(0));
  EXPECT_THROW(ok.log_prob(torch::zeros({4, 3})), c10::Error);
}

TEST(GaussianMixture, ListDocumentsEveryOption) {
  data_test::ensure_datasets_registered();
  std::vector<std::string> keys;
  bool means_required = false;
  for (const auto& o : dataset_registry().options("gaussian_mixture")) {
    keys.push_back(o.key);
    if (o.key == "means") means_required = o.required;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"dim", "means", "weights", "stds", "covariances"}));
  EXPECT_TRUE(means_required);
}


TEST(GaussianMixture, LabelsAreTheComponents) {
  auto mixture = make_dataset("type: gaussian_mixture\ndim: 2\nmeans: [-20, 0, 20, 0, 0, 20]\nweights: [0.2, 0.3, 0.5]\n");
  EXPECT_EQ(mixture->num_classes(), 3);
  at::Generator gen = data::make_generator(4);
  const data::Batch b = mixture->sample(6000, gen);
  ASSERT_TRUE(b.label.defined());
  // Components 20 apart with unit covariance: the nearest mean is the component drawn.
  const auto means = torch::tensor({-20.0f, 0.0f, 20.0f, 0.0f, 0.0f, 20.0f}).view({3, 2});
  const auto nearest = torch::cdist(b.x, means).argmin(1);
  EXPECT_TRUE(torch::equal(nearest, b.label));
  for (int64_t k = 0; k < 3; ++k) {
    const double expected = std::vector<double>{0.2, 0.3, 0.5}[k] * 6000;
    EXPECT_NEAR((b.label == k).sum().item<double>(), expected, data_test::binomial_tolerance(6000, expected / 6000));
  }
  // Draws of given classes (the reference data of class-conditional samples).
  const auto wanted = torch::tensor({2, 0, 0, 1, 2, 2, 1}, torch::kLong);
  const auto x = data::sample_of_classes(*mixture, wanted, gen);
  EXPECT_TRUE(torch::equal(torch::cdist(x, means).argmin(1), wanted));
}

}  // namespace
}  // namespace flowlab::data
