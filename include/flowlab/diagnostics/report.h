#pragma once
// One report of how far a learned field is from conservative, and what it sees of the data:
// at each time t, the Jacobian asymmetry (exact up to kExactMaxDim, randomized always) and the
// circulation around small circles through points x_t of the path; optionally the gauge
// decomposition b = grad phi + r (with the samples of grad phi alone scored against the data);
// the score-spectrum and flow-Jacobian intrinsic dimensions near t = 1. `flowlab diagnose`
// builds the inputs from a run (train/diagnosis.h) and prints text() or json().
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "flowlab/diagnostics/asymmetry.h"
#include "flowlab/diagnostics/gauge.h"
#include "flowlab/io/json.h"
#include "flowlab/solvers/solver.h"

namespace flowlab::diagnostics {

/// Full Jacobians (d backward passes per point) up to this dimension; the randomized estimator always.
constexpr int64_t kExactMaxDim = 64;

struct ReportOptions {
  std::vector<double> times{0.1, 0.3, 0.5, 0.7, 0.9};
  int64_t points = 256;       ///< points x_t per time
  int64_t probes = 8;         ///< Rademacher probes of the randomized asymmetry (and Hutchinson divergences)
  std::vector<double> radii{0.01, 0.1, 0.5};
  int64_t loop_points = 64;   ///< quadrature points per circle
  double id_time = 0.99;      ///< time of both intrinsic dimensions (near the data, t = 1)
  int64_t id_points = 100;    ///< points whose dimension is estimated; 0 skips both
  int64_t id_samples = 0;     ///< scores per point of the score spectrum; 0: 4 D
  int64_t id_directions = 0;  ///< directions of the flow-Jacobian dimension; 0: min(D, kExactMaxDim)
  int64_t flow_steps = 200;   ///< RK4 steps of the variational equation
  int64_t gauge_steps = 0;    ///< Adam steps fitting grad phi (and grad psi); 0 skips the gauge decomposition
  uint64_t seed = 0;
  /// ConfigError naming the option unless every value is valid for data of dimension `dim`.
  void validate(int64_t dim) const;
};

/// Scores against the data (metric name -> value) of samples from the learned field and from
/// `conservative` started at the same source points: (learned, conservative).
using SampleComparison = std::function<std::pair<std::map<std::string, double>, std::map<std::string, double>>(
    const solvers::Field& conservative)>;

/// What a report is computed from: plain fields and samplers, never a network or a checkpoint.
struct ReportInputs {
  solvers::Field velocity;
  solvers::Field score;              ///< empty when the model has no score on this path
  std::vector<int64_t> sample_shape; ///< one point's shape; the fields take [B, ...sample_shape]
  PathSampler path_points;           ///< x_t at times t [n]
  std::function<torch::Tensor(int64_t n, at::Generator& gen)> data_points, source_points;
  /// (beta(t), sigma(t)) of x_t = alpha x0 + beta x1 + sigma z: the score spectrum's centres and spread.
  std::function<std::pair<double, double>(double t)> signal_and_noise;
  SampleComparison compare_samples;  ///< empty: the gauge decomposition's samples are not scored
  torch::Device device = torch::kCPU;
};

/// One field (velocity or score) at one time.
struct FieldDiagnosis {
  std::string field;  ///< velocity | score
  double t = 0.0;
  AsymmetryEstimate exact, randomized;
  bool has_exact = false;
  std::vector<double> relative_circulation;  ///< mean |loop integral| / mean integral of |field|, per radius
  /// max |I - pi R^2 v^T (J - J^T) u| / mean magnitude at the smallest R (with has_exact): the loop
  /// integral against its small-circle limit, a check of both.
  double small_loop_error = -1.0;
  GaugeReport gauge;  ///< of the velocity, with the gauge decomposition
  bool has_gauge = false;
};

/// Per-point intrinsic dimension estimates (integers in [0, D]) and the mean singular values.
struct DimensionEstimate {
  torch::Tensor estimates, spectrum;
  int64_t directions = 0;  ///< flow Jacobian: the directions used (D: the whole Jacobian)
  bool defined() const { return estimates.defined(); }
  int64_t mode(int64_t dim) const;
  double mean() const;
  io::JsonObject json(int64_t dim, double time) const;
};

struct Report {
  ReportOptions options;
  int64_t dim = 0;  ///< of the flattened data
  bool has_score = false;
  std::vector<FieldDiagnosis> results;  ///< per time, velocity then score
  std::map<std::string, double> learned_scores, conservative_scores;
  DimensionEstimate score_dimension, flow_dimension;

  /// The report as one JSON object (the keys `flowlab diagnose --json` has always written).
  io::JsonObject json() const;
  /// The report as text: a table of asymmetry and circulation, then gauge, sample and dimension lines.
  std::string text() const;
};

/// Computes the report. The streams are fixed by options.seed: equal inputs and options give equal reports.
Report diagnose(const ReportInputs& inputs, const ReportOptions& options);

}  // namespace flowlab::diagnostics
