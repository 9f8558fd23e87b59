// The diagnostics report on exact fields: the cond-OT path onto a degenerate Gaussian (a line in
// R^3) has a gradient velocity and score (asymmetry 0, no circulation) and intrinsic dimension 1;
// adding a rotation makes the velocity's asymmetry its known share.
#include "flowlab/diagnostics/report.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "flowlab/core/error.h"
#include "flowlab/data/dataset.h"
#include "flowlab/data/gaussian_mixture.h"
#include "flowlab/paths/gaussian_mixture_fields.h"
#include "paths/make_path.h"

namespace flowlab::diagnostics {
namespace {

constexpr double kEps = 1e-3;

struct LineTarget {
  data::GaussianMixture target{torch::ones({1}, torch::kFloat64), torch::zeros({1, 3}, torch::kFloat64),
                               torch::diag(torch::tensor({1.0, kEps * kEps, kEps * kEps}, torch::kFloat64)).unsqueeze(0)};
  std::unique_ptr<paths::Path> path = paths::make_path("type: cond_ot\n");
  paths::GaussianMixtureFields fields{*path, target};

  ReportInputs inputs() const {
    ReportInputs in;
    in.velocity = fields.velocity_field();
    in.score = fields.score_field();
    in.sample_shape = {3};
    in.data_points = [this](int64_t n, at::Generator& gen) { return target.sample(n, gen).x; };
    in.source_points = [](int64_t n, at::Generator& gen) { return torch::randn({n, 3}, gen, torch::kFloat64); };
    in.path_points = [this](const torch::Tensor& t, at::Generator& gen) {
      const torch::Tensor x1 = target.sample(t.size(0), gen).x;
      const torch::Tensor x0 = torch::randn({t.size(0), 3}, gen, torch::kFloat64);
      return path->sample(x0, x1, t.to(torch::kFloat64), torch::zeros_like(x0)).x_t;
    };
    in.signal_and_noise = [](double t) { return std::make_pair(t, 1.0 - t); };
    return in;
  }
};

ReportOptions small_options() {
  ReportOptions o;
  o.times = {0.3, 0.7};
  o.points = 32;
  o.radii = {0.01, 0.1};
  o.id_points = 8;
  o.id_time = 0.99;
  o.flow_steps = 400;
  o.seed = 5;
  return o;
}

TEST(DiagnosticsReport, GradientFieldsOfALineTarget) {
  const LineTarget line;
  const Report report = diagnose(line.inputs(), small_options());
  EXPECT_EQ(report.dim, 3);
  ASSERT_EQ(report.results.size(), 4u);  // two times, velocity then score
  EXPECT_EQ(report.results[0].field, "velocity");
  EXPECT_EQ(report.results[1].field, "score");
  for (const FieldDiagnosis& r : report.results) {
    ASSERT_TRUE(r.has_exact);
    EXPECT_LT(r.exact.mean, 1e-9) << r.field << " t " << r.t;
    EXPECT_LT(r.randomized.mean, 1e-9) << r.field << " t " << r.t;
    for (double c : r.relative_circulation) EXPECT_LT(c, 1e-6) << r.field << " t " << r.t;
    EXPECT_GE(r.small_loop_error, 0.0);
    EXPECT_FALSE(r.has_gauge);
  }
  ASSERT_TRUE(report.flow_dimension.defined());
  EXPECT_TRUE((report.flow_dimension.estimates == 1).all().item<bool>()) << report.flow_dimension.estimates;
  EXPECT_EQ(report.flow_dimension.directions, 3);
  ASSERT_TRUE(report.score_dimension.defined());
  EXPECT_EQ(report.score_dimension.mode(3), 1) << report.score_dimension.estimates;

  const std::string json = report.json().str();
  for (const char* key : {"\"dim\": 3", "\"results\": [", "\"asymmetry\":", "\"circulation\": [",
                          "\"intrinsic_dimension\": {", "\"intrinsic_dimension_flow\": {", "\"mode\": 1"}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << "\n" << json;
  }
  const std::string text = report.text();
  EXPECT_NE(text.find("A exact (s.e.)"), std::string::npos) << text;
  EXPECT_NE(text.find("flow Jacobian d x_t/d x_0 at t = 0.99 (8 points, whole Jacobian): mode 1"), std::string::npos)
      << text;
  // The same seed, the same report.
  EXPECT_EQ(diagnose(line.inputs(), small_options()).json().str(), json);
}

// b + w K x with K antisymmetric: J = S + w K with S the symmetric Jacobian of b, and
// A = ||w K||_F / ||S + w K||_F = w ||K|| / sqrt(||S||^2 + w^2 ||K||^2) exactly (S and K are
// Frobenius-orthogonal). The loop integral of a linear field is its small-circle limit exactly.
TEST(DiagnosticsReport, ARotationShowsAsItsShareOfTheJacobian) {
  const LineTarget line;
  ReportInputs in = line.inputs();
  const torch::Tensor k = torch::tensor({{0.0, -1.0, 0.0}, {1.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}, torch::kFloat64);
  const double w = 0.5;
  in.velocity = [base = in.velocity, k, w](const torch::Tensor& x, const torch::Tensor& t) {
    return base(x, t) + w * torch::matmul(x, k.t());
  };
  in.score = {};
  ReportOptions o = small_options();
  o.id_points = 0;
  const Report report = diagnose(in, o);
  ASSERT_EQ(report.results.size(), 2u);  // no score: the velocity only
  EXPECT_FALSE(report.has_score);
  for (const FieldDiagnosis& r : report.results) {
    // S of the cond-OT velocity onto the line: diag(a1, a2, a2) with a = d log sqrt(C_t)/dt.
    const auto rate = [t = r.t](double sigma) {
      const double c = (1 - t) * (1 - t) + t * t * sigma * sigma;
      return (-(1 - t) + t * sigma * sigma) / c;
    };
    const double s2 = rate(1.0) * rate(1.0) + 2 * rate(kEps) * rate(kEps);
    const double expected = w * std::sqrt(2.0) / std::sqrt(s2 + 2 * w * w);
    EXPECT_NEAR(r.exact.mean, expected, 1e-9) << "t " << r.t;
    EXPECT_NEAR(r.exact.pooled, expected, 1e-9) << "t " << r.t;
    EXPECT_LT(r.small_loop_error, 1e-9) << "t " << r.t;
    EXPECT_GT(r.relative_circulation[0], 1e-4) << "t " << r.t;
  }
  EXPECT_NE(report.text().find("no score from this model on this path"), std::string::npos);
  EXPECT_EQ(report.json().str().find("intrinsic_dimension\""), std::string::npos);
}

TEST(DiagnosticsReport, TheGaugeDecompositionComparesSamples) {
  const LineTarget line;
  ReportInputs in = line.inputs();
  // The energy network fitted to the velocity is float32, like a trained model.
  in.path_points = [base = in.path_points](const torch::Tensor& t, at::Generator& gen) {
    return base(t, gen).to(torch::kFloat32);
  };
  int calls = 0;
  in.compare_samples = [&calls](const solvers::Field& conservative) {
    ++calls;
    EXPECT_TRUE(static_cast<bool>(conservative));
    return std::make_pair(std::map<std::string, double>{{"energy_distance", 0.25}},
                          std::map<std::string, double>{{"energy_distance", 0.5}});
  };
  ReportOptions o = small_options();
  o.times = {0.5};
  o.id_points = 0;
  o.gauge_steps = 30;
  const Report report = diagnose(in, o);
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(report.results[0].has_gauge);
  EXPECT_GE(report.results[0].gauge.remainder_share, 0.0);
  const std::string json = report.json().str();
  EXPECT_NE(json.find("\"learned_energy_distance\": 0.25"), std::string::npos) << json;
  EXPECT_NE(json.find("\"conservative_energy_distance\": 0.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"remainder_share\":"), std::string::npos) << json;
}

TEST(DiagnosticsReport, BadOptionsAreConfigErrors) {
  const LineTarget line;
  const auto fails = [&](auto change) {
    ReportOptions o = small_options();
    change(o);
    EXPECT_THROW(diagnose(line.inputs(), o), ConfigError);
  };
  fails([](ReportOptions& o) { o.times = {1.0}; });
  fails([](ReportOptions& o) { o.radii = {0.0}; });
  fails([](ReportOptions& o) { o.points = 1; });
  fails([](ReportOptions& o) { o.id_time = 1.0; });
  fails([](ReportOptions& o) { o.id_directions = 4; });  // D = 3
  ReportInputs flat = line.inputs();
  flat.sample_shape = {1};
  EXPECT_THROW(diagnose(flat, small_options()), ConfigError);
}

}  // namespace
}  // namespace flowlab::diagnostics
