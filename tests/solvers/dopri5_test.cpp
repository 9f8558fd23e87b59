// Adaptive Dormand-Prince: accuracy against tolerances, per-sample step
// control, and the step cap.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/solvers/solver.h"
#include "solvers/analytic_odes.h"
#include "support/helpers.h"
#include "support/config_error.h"

namespace flowlab::solvers {
namespace {

using analytic::cos_growth_field;
using analytic::cos_growth_solution;
using analytic::max_abs_diff;
using analytic::rotation_field;
using analytic::rotation_solution;

SolverOptions tolerances(double tol) {
  SolverOptions options;
  options.atol = tol;
  options.rtol = tol;
  return options;
}

using testing::error_of;

// Each problem is solved at four tolerances: the error at t1 stays within a
// small multiple of the tolerance, and shrinks (while the work grows) as the
// tolerance shrinks.
TEST(Dopri5, MeetsItsTolerance) {
  struct Problem {
    const char* name;
    Field field;
    torch::Tensor x0;
    std::function<torch::Tensor(const torch::Tensor&, double, double)> solution;
  };
  const std::vector<Problem> problems = {
      {"cos growth", cos_growth_field(), torch::tensor({{1.0, -2.0}, {0.5, 3.0}}, torch::kDouble),
       cos_growth_solution},
      {"rotation", rotation_field(),
       torch::tensor({{1.0, 0.0, 3.0}, {0.0, 2.0, 1.0}, {-1.0, 1.0, 2.0}}, torch::kDouble), rotation_solution},
  };
  for (const Problem& problem : problems) {
    double previous_error = INFINITY;
    int64_t previous_nfe = 0;
    for (double tol : {1e-3, 1e-5, 1e-7, 1e-9}) {
      SCOPED_TRACE(std::string(problem.name) + " tol=" + std::to_string(tol));
      const SolveResult result = make_solver("dopri5", tolerances(tol))->integrate(problem.field, problem.x0, 0.0, 2.0);
      const double error = max_abs_diff(result.x, problem.solution(problem.x0, 0.0, 2.0));
      std::ostringstream key, measured;
      key << problem.name << " tol " << tol;
      measured << "error " << error << " nfe " << result.nfe;
      ::testing::Test::RecordProperty(key.str(), measured.str());
      // Local error control: the global error over these short spans stays
      // within a few tolerances (scipy's RK45 gives up to 4x on these).
      EXPECT_LT(error, 5 * tol) << "nfe " << result.nfe;
      EXPECT_LT(error, previous_error);
      EXPECT_GT(result.nfe, previous_nfe);
      previous_error = error;
      previous_nfe = result.nfe;
    }
  }
}

TEST(Dopri5, FloatStateMeetsAModestTolerance) {
  const torch::Tensor x0 = torch::tensor({{1.0, 0.0, 2.0}, {0.5, 0.5, 4.0}}, torch::kFloat);
  const SolveResult result = make_solver("dopri5", tolerances(1e-5))->integrate(rotation_field(), x0, 0.0, 1.0);
  EXPECT_EQ(result.x.scalar_type(), torch::kFloat);
  EXPECT_LT(max_abs_diff(result.x, rotation_solution(x0, 0.0, 1.0)), 1e-4);
}

// The same Dormand-Prince pair, error norm, controller and starting-step
// heuristic as scipy's RK45, so each sample of a batch must take exactly the
// evaluations scipy takes for it alone and land on the same values. The
// rotation speeds up 11-fold in a pulse around t = 1, which forces rejections.
TEST(Dopri5, MatchesScipyRK45SampleBySample) {
  if (!::flowlab::testing::python_has("scipy")) GTEST_SKIP() << "the oracle python has no scipy";
  const torch::Tensor x0 =
      torch::tensor({{1.0, 0.0, 3.0}, {0.0, 2.0, 1.0}, {-1.0, 1.0, 7.0}, {0.3, -0.2, 25.0}}, torch::kDouble);
  const double tol = 1e-6;
  const Field pulsed_rotation = [](const torch::Tensor& x, const torch::Tensor& t) {
    const torch::Tensor speedup = 1.0 + 10.0 * torch::exp(-((t - 1.0) / 0.05).pow(2));
    return rotation_field()(x, t) * speedup.view({-1, 1});
  };
  const SolveResult ours = make_solver("dopri5", tolerances(tol))->integrate(pulsed_rotation, x0, 0.0, 2.0);
  EXPECT_GT(ours.rejected, 0);
  const std::string output = ::flowlab::testing::run_python(R"(
import math
from scipy.integrate import solve_ivp
for x0 in [(1.0, 0.0, 3.0), (0.0, 2.0, 1.0), (-1.0, 1.0, 7.0), (0.3, -0.2, 25.0)]:
    def f(t, y):
        omega = y[2] * (1.0 + 10.0 * math.exp(-((t - 1.0) / 0.05) ** 2))
        return [-omega * y[1], omega * y[0], 0.0]
    r = solve_ivp(f, (0.0, 2.0), x0, method='RK45', rtol=1e-6, atol=1e-6)
    print(r.nfev, repr(r.y[0, -1]), repr(r.y[1, -1]))
)");
  std::istringstream lines(output);
  for (int64_t i = 0; i < x0.size(0); ++i) {
    int64_t scipy_nfe = 0;
    double u = 0, v = 0;
    ASSERT_TRUE(lines >> scipy_nfe >> u >> v) << output;
    const int64_t trials = ours.accepted_per_sample[i].item<int64_t>() + ours.rejected_per_sample[i].item<int64_t>();
    EXPECT_EQ(2 + 6 * trials, scipy_nfe) << "sample " << i;
    EXPECT_NEAR(ours.x[i][0].item<double>(), u, 1e-11) << "sample " << i;
    EXPECT_NEAR(ours.x[i][1].item<double>(), v, 1e-11) << "sample " << i;
  }
}

// A fast rotation (omega = 20) and a slow one (omega = 0.5) in one batch.
TEST(Dopri5, ControlsTheStepOfEachSample) {
  const torch::Tensor x0 = torch::tensor({{1.0, 0.0, 20.0}, {1.0, 0.0, 0.5}}, torch::kDouble);
  std::multiset<int64_t> batch_sizes;
  const Field field = [&](const torch::Tensor& x, const torch::Tensor& t) {
    batch_sizes.insert(x.size(0));
    return rotation_field()(x, t);
  };
  const auto solver = make_solver("dopri5", tolerances(1e-7));
  const SolveResult together = solver->integrate(field, x0, 0.0, 1.0);

  const int64_t fast_steps = together.accepted_per_sample[0].item<int64_t>();
  const int64_t slow_steps = together.accepted_per_sample[1].item<int64_t>();
  EXPECT_LT(2 * slow_steps, fast_steps) << "slow " << slow_steps << " fast " << fast_steps;
  EXPECT_EQ(together.accepted, fast_steps + slow_steps);
  EXPECT_EQ(together.rejected, together.rejected_per_sample.sum().item<int64_t>());
  EXPECT_EQ(together.steps, fast_steps + together.rejected_per_sample[0].item<int64_t>());
  // Two evaluations start the solve; each trial step after that costs 6, and the
  // fast sample is active on every trial.
  EXPECT_EQ(together.nfe, 2 + 6 * together.steps);
  // Once the slow sample is done the field sees only the fast one's row.
  EXPECT_GT(batch_sizes.count(1), 0u);

  EXPECT_LT(max_abs_diff(together.x, rotation_solution(x0, 0.0, 1.0)), 1e-5);
  for (int64_t i = 0; i < 2; ++i) {
    const SolveResult alone = solver->integrate(rotation_field(), x0.slice(0, i, i + 1), 0.0, 1.0);
    EXPECT_LT(max_abs_diff(alone.x[0], together.x[i]), 1e-12) << "sample " << i;
    EXPECT_EQ(alone.accepted, together.accepted_per_sample[i].item<int64_t>()) << "sample " << i;
  }
}

// The samples' times differ once their step sizes do; the field sees each one.
TEST(Dopri5, FieldSeesPerSampleTimes) {
  const torch::Tensor x0 = torch::tensor({{1.0, 0.0, 30.0}, {1.0, 0.0, 0.1}}, torch::kDouble);
  bool saw_different_times = false;
  const Field field = [&](const torch::Tensor& x, const torch::Tensor& t) {
    if (t.size(0) == 2 && t[0].item<double>() != t[1].item<double>()) saw_different_times = true;
    return rotation_field()(x, t);
  };
  make_solver("dopri5", tolerances(1e-6))->integrate(field, x0, 0.0, 1.0);
  EXPECT_TRUE(saw_different_times);
}

TEST(Dopri5, NeverOvershootsTheEndTime) {
  double latest = -INFINITY;
  const Field field = [&](const torch::Tensor& x, const torch::Tensor& t) {
    latest = std::max(latest, t.max().item<double>());
    return cos_growth_field()(x, t);
  };
  make_solver("dopri5", tolerances(1e-4))->integrate(field, torch::ones({3, 2}, torch::kDouble), 0.0, 0.7);
  EXPECT_LE(latest, 0.7);
  EXPECT_DOUBLE_EQ(latest, 0.7);
}

TEST(Dopri5, StepCapThrowsAndExactCapPasses) {
  const torch::Tensor x0 = torch::tensor({{1.0, 0.0, 40.0}, {0.0, 1.0, 50.0}}, torch::kDouble);
  SolverOptions options = tolerances(1e-8);
  const SolveResult uncapped = make_solver("dopri5", options)->integrate(rotation_field(), x0, 0.0, 1.0);
  ASSERT_GT(uncapped.steps, 10);

  options.max_steps = uncapped.steps;
  EXPECT_NO_THROW(make_solver("dopri5", options)->integrate(rotation_field(), x0, 0.0, 1.0));

  options.max_steps = 10;
  const std::string message =
      error_of([&] { make_solver("dopri5", options)->integrate(rotation_field(), x0, 0.0, 1.0); });
  EXPECT_NE(message.find("2 of 2 samples did not reach t=1 within max_steps=10"), std::string::npos) << message;
  EXPECT_NE(message.find("they reached t in ["), std::string::npos) << message;
}

// A field that is NaN past t = 0.5: the solver shrinks the step towards 0.5,
// then reports where it got stuck instead of looping or returning NaN.
TEST(Dopri5, NonFiniteFieldNamesTheTime) {
  const Field field = [](const torch::Tensor& x, const torch::Tensor& t) {
    const torch::Tensor beyond = (t > 0.5).view({-1, 1});
    return torch::where(beyond, torch::full_like(x, NAN), -x);
  };
  const std::string message = error_of(
      [&] { make_solver("dopri5", tolerances(1e-6))->integrate(field, torch::ones({2, 2}, torch::kDouble), 0.0, 1.0); });
  EXPECT_NE(message.find("underflowed for 2 of 2 samples at t=0.5"), std::string::npos) << message;
  EXPECT_NE(message.find("non-finite"), std::string::npos) << message;
}

TEST(Dopri5, NonFiniteFieldAtTheStart) {
  const Field field = [](const torch::Tensor& x, const torch::Tensor&) { return x / 0.0; };
  const std::string message = error_of(
      [&] { make_solver("dopri5", tolerances(1e-6))->integrate(field, torch::ones({3, 1}, torch::kDouble), 0.25, 1.0); });
  EXPECT_NE(message.find("non-finite values at t=0.25 for 3 of 3 samples"), std::string::npos) << message;
}

TEST(Dopri5, InvalidTolerancesAreErrors) {
  SolverOptions options = tolerances(0.0);
  EXPECT_THROW(make_solver("dopri5", options), Error);
  options.atol = -1.0;
  options.rtol = 1e-3;
  EXPECT_THROW(make_solver("dopri5", options), Error);
  options.atol = 1e-3;
  options.max_steps = 0;
  EXPECT_THROW(make_solver("dopri5", options), Error);
}

// A field with per-sample data outside the state (class labels in sampling): a row field is told
// which rows it gets, so each sample keeps its own rate once the batch shrinks to the active rows.
TEST(Dopri5, RowFieldIsToldWhichRowsItIsGiven) {
  const torch::Tensor omega = torch::tensor({20.0, 0.5, 7.0}, torch::kDouble);
  const torch::Tensor x0 = torch::tensor({{1.0, 0.0}, {1.0, 0.0}, {0.0, 2.0}}, torch::kDouble);
  bool saw_subset = false;
  const RowField field = [&](const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& rows) {
    EXPECT_EQ(rows.defined() ? rows.size(0) : omega.size(0), x.size(0));
    if (rows.defined() && rows.size(0) < omega.size(0)) saw_subset = true;
    const torch::Tensor w = (rows.defined() ? omega.index_select(0, rows) : omega).unsqueeze(1);
    return torch::cat({-w * x.narrow(1, 1, 1), w * x.narrow(1, 0, 1)}, 1);
  };
  const SolveResult r = make_solver("dopri5", tolerances(1e-8))->integrate_rows(field, x0, 0.0, 1.0);
  EXPECT_TRUE(saw_subset);
  // x(1) is x0 rotated by omega.
  const torch::Tensor c = omega.cos(), s = omega.sin();
  const torch::Tensor expected = torch::stack({c * x0.select(1, 0) - s * x0.select(1, 1),
                                               s * x0.select(1, 0) + c * x0.select(1, 1)}, 1);
  EXPECT_LT(max_abs_diff(r.x, expected), 1e-5);
  // Fixed-step solvers evaluate every row: they pass no indices.
  const SolveResult fixed = make_solver("rk4", [] { SolverOptions o; o.steps = 400; return o; }())
                                ->integrate_rows(field, x0, 0.0, 1.0);
  EXPECT_LT(max_abs_diff(fixed.x, expected), 1e-5);
}

}  // namespace
}  // namespace flowlab::solvers
