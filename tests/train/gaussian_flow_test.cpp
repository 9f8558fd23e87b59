// Gaussian to Gaussian: with x0 ~ N(0, I) and x1 ~ N(mu, Sigma) the CondOT marginal
// velocity has a closed form. A trained MLP must match it, and its samples must
// have mean mu and covariance Sigma.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowlab/builtins.h"
#include "flowlab/solvers/solver.h"
#include "flowlab/train/evaluation.h"
#include "flowlab/train/trainer.h"
#include "support/helpers.h"

namespace flowlab::train {
namespace {

const torch::Tensor& mu() {
  static const torch::Tensor m = torch::tensor({1.0, -0.5}, torch::kFloat64);
  return m;
}
const torch::Tensor& sigma() {
  static const torch::Tensor s = torch::tensor({{0.5, 0.2}, {0.2, 0.3}}, torch::kFloat64);
  return s;
}

// b(x, t) = mu + (t Sigma - (1 - t) I) C_t^{-1} (x - t mu), C_t = (1 - t)^2 I + t^2 Sigma.
torch::Tensor closed_form_velocity(const torch::Tensor& x, const torch::Tensor& t) {
  const auto eye = torch::eye(2, torch::kFloat64);
  std::vector<torch::Tensor> rows;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const double s = t[i].item<double>();
    const auto C = (1 - s) * (1 - s) * eye + s * s * sigma();
    const auto K = torch::matmul(s * sigma() - (1 - s) * eye, torch::inverse(C));
    rows.push_back(mu() + torch::matmul(K, x[i] - s * mu()));
  }
  return torch::stack(rows);
}

void expect_moments(const torch::Tensor& samples, double tolerance) {
  const auto x = samples.to(torch::kFloat64);
  const auto mean = x.mean(0);
  const auto centred = x - mean;
  const auto cov = torch::matmul(centred.t(), centred) / (x.size(0) - 1);
  EXPECT_LT((mean - mu()).abs().max().item<double>(), tolerance) << mean;
  EXPECT_LT((cov - sigma()).abs().max().item<double>(), tolerance) << cov;
}

TEST(GaussianFlow, ClosedFormFieldTransportsTheSourceToTheTarget) {
  // Checks the oracle itself: RK4 through the closed-form field maps N(0, I) to N(mu, Sigma).
  register_builtins();
  auto solver = solvers::make_solver("rk4", solvers::SolverOptions{});
  torch::manual_seed(0);
  const auto x0 = torch::randn({20000, 2}, torch::kFloat64);
  // Vectorised closed form for the solver (same formula as above, batched over t).
  const solvers::Field field = [](const torch::Tensor& x, const torch::Tensor& t) {
    const double s = t[0].item<double>();
    const auto eye = torch::eye(2, torch::kFloat64);
    const auto C = (1 - s) * (1 - s) * eye + s * s * sigma();
    const auto K = torch::matmul(s * sigma() - (1 - s) * eye, torch::inverse(C));
    return mu() + torch::matmul(x - s * mu(), K.t());
  };
  const auto x1 = solver->integrate(field, x0, 0.0, 1.0).x;
  expect_moments(x1, 0.02);
  EXPECT_TRUE(torch::allclose(field(x0.slice(0, 0, 5), torch::full({5}, 0.3, torch::kFloat64)),
                              closed_form_velocity(x0.slice(0, 0, 5), torch::full({5}, 0.3, torch::kFloat64)),
                              1e-12, 1e-12));
}

TEST(GaussianFlow, TrainedMlpMatchesClosedFormVelocityAndMoments) {
  testing::TempDir dir;
  config::Node config = config::Node::parse(
      "run: {name: gauss, dir: " + dir.path() + ", seed: 0, threads: 1}\n"
      "data: {type: gaussian_mixture, dim: 2, means: [1.0, -0.5], covariances: [0.5, 0.2, 0.2, 0.3]}\n"
      "path: {type: cond_ot}\n"
      "model: {type: mlp, hidden: [128, 128], time_embedding: {dim: 32}}\n"
      "objective: {type: flow_matching}\n"
      "train: {steps: 3000, batch_size: 512, optimizer: {type: adam, lr: 2.0e-3},\n"
      "        schedule: {type: cosine, warmup: 100}, ema: {decay: 0.995}, log_every: 1000,\n"
      "        eval_every: 0, checkpoint_every: 0}\n"
      "sample: {solver: rk4, steps: 40}\n",
      "gaussian.yaml");
  Experiment exp(config);
  Trainer(exp).run(false);

  // Velocity on points drawn from p_t at several times: relative L2 error.
  torch::NoGradGuard no_grad;
  nn::Model& model = sampling_model(exp);
  model.eval();
  torch::manual_seed(1);
  const auto L = torch::linalg_cholesky(sigma());
  for (double s : {0.1, 0.3, 0.5, 0.7, 0.9}) {
    const auto x0 = torch::randn({2000, 2}, torch::kFloat64);
    const auto x1 = mu() + torch::matmul(torch::randn({2000, 2}, torch::kFloat64), L.t());
    const auto x = (1 - s) * x0 + s * x1;
    const auto t = torch::full({2000}, s, torch::kFloat64);
    const auto learned = model.forward(x.to(torch::kFloat32), t.to(torch::kFloat32))[0].second.to(torch::kFloat64);
    const auto exact = closed_form_velocity(x, t);
    const double relative = ((learned - exact).norm() / exact.norm()).item<double>();
    std::cout << "t = " << s << ": relative L2 error of the learned velocity " << relative << "\n";
    EXPECT_LT(relative, 0.05) << "t = " << s;
  }

  const GeneratedSamples samples = generate_samples(exp, model, 20000, 7);
  expect_moments(samples.x, 0.03);

  // The likelihood of the trained flow is close to the closed form: the mean of -log N(x; mu, Sigma)
  // over data points ((1 + log 2 pi) + log det(Sigma) / 2 in expectation), on the same points. The gap
  // estimates the KL divergence from the data to the model.
  const auto points = mu() + torch::matmul(torch::randn({2000, 2}, torch::kFloat64), L.t());
  const auto centred = torch::linalg_solve_triangular(L, (points - mu()).t(), /*upper=*/false, /*left=*/true, /*unitriangular=*/false).t();
  const auto exact_nll = 0.5 * centred.pow(2).sum(1) + std::log(2 * M_PI) + torch::log(torch::diag(L)).sum();
  const NllEstimate nll = estimate_nll(exp, model, points.to(torch::kFloat32), 3);
  const double exact = exact_nll.mean().item<double>();
  std::cout << "nll: trained " << nll.nll << " +- " << nll.nll_se << ", exact " << exact << "\n";
  EXPECT_NEAR(nll.nll, exact, 0.02);  // measured gap: 4e-4 nats
  EXPECT_NEAR(nll.bpd, nll.nll / (2 * std::log(2.0)), 1e-12);
}

}  // namespace
}  // namespace flowlab::train
