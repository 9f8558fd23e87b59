// End to end: `flowlab diagnose` on a short moons run reports the asymmetry of its velocity and
// score (exact and randomized agree), loop circulations that obey the small-loop identity, and a
// plot; bad options are usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::json_value;
using testing::read_file;
using testing::run_command;
using testing::TempDir;

using testing::flowlab;

TEST(DiagnoseCli, ReportsAsymmetryAndCirculation) {
  TempDir dir;
  const std::string config = testing::source_dir() + "/configs/toy/moons.yaml";
  auto r = run_command(flowlab() + " train " + config + " --set run.dir=" + dir.path() +
                       " run.name=moons run.threads=1 train.steps=200 train.eval_every=0 'model.hidden=[32, 32]'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string run = dir.path() + "/moons";
  r = run_command(flowlab() + " diagnose " + run + " --times 0.3 0.8 --points 64 --probes 16 --radii 0.01 0.3" +
                  " --json " + dir.file("d.json") + " --plot " + dir.file("d.png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string json = read_file(dir.file("d.json"));
  std::cout << json;
  // An unconstrained MLP is not a gradient field, but not a rotation either.
  const double exact = json_value(json, "asymmetry");
  EXPECT_GT(exact, 1e-4);
  EXPECT_LT(exact, 0.9);
  // The randomized estimate (16 probes, 64 points) is close to the exact one.
  EXPECT_NEAR(json_value(json, "asymmetry_randomized"), exact, 6 * json_value(json, "asymmetry_randomized_se") + 0.02);
  // At R = 0.01 the loop integral is pi R^2 v^T (J - J^T) u up to O(R^4) (silu network: smooth).
  EXPECT_LT(json_value(json, "small_loop_error"), 1e-3);
  EXPECT_NE(json.find("\"field\": \"score\""), std::string::npos);
  // The score-spectrum dimension of each of the 100 default points, between 0 and d = 2.
  EXPECT_NE(json.find("\"intrinsic_dimension\""), std::string::npos);
  EXPECT_NE(json.find("\"intrinsic_dimension_flow\""), std::string::npos);
  EXPECT_GE(json_value(json, "mode"), 0.0);
  EXPECT_LE(json_value(json, "mode"), 2.0);
  EXPECT_TRUE(std::filesystem::exists(dir.file("d.png")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("d_field_t0.80.png")));  // 2-D data: the field at the middle time
  EXPECT_TRUE(std::filesystem::exists(dir.file("d_dimension.png")));

  // An energy network trained the same way is a gradient field: A at float32 rounding.
  r = run_command(flowlab() + " train " + config + " --set run.dir=" + dir.path() +
                  " run.name=energy run.threads=1 train.steps=200 train.eval_every=0 model.type=energy_mlp"
                  " 'model.hidden=[32, 32]'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " diagnose " + dir.path() + "/energy --times 0.5 --points 64 --id-points 0 --json " +
                  dir.file("e.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string energy = read_file(dir.file("e.json"));
  EXPECT_LT(json_value(energy, "asymmetry"), 1e-5) << energy;
  EXPECT_LT(json_value(energy, "asymmetry_randomized"), 1e-5) << energy;
  std::smatch circulation;
  ASSERT_TRUE(std::regex_search(energy, circulation, std::regex("\"circulation\": \\[([-0-9.eE+]+)"))) << energy;
  EXPECT_LT(std::stod(circulation[1]), 1e-4) << energy;

  // The gauge decomposition: a short fit of grad phi, the remainder's share, and samples of both fields.
  r = run_command(flowlab() + " diagnose " + run + " --times 0.5 --points 32 --id-points 0 --gauge-steps 100" +
                  " --set eval.n=500 --json " + dir.file("g.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string gauge = read_file(dir.file("g.json"));
  EXPECT_GT(json_value(gauge, "remainder_share"), 0.0);
  EXPECT_LT(json_value(gauge, "remainder_share"), 1.0);
  EXPECT_GT(json_value(gauge, "learned_energy_distance"), 0.0);
  EXPECT_GT(json_value(gauge, "conservative_energy_distance"), 0.0);
  // The fit's error: a second fit, to the remainder; what is left of the share without it.
  EXPECT_GE(json_value(gauge, "remainder_fit_error"), 0.0);
  EXPECT_GE(json_value(gauge, "remainder_refined"), 0.0);
  // |r - h|^2 <= 2 |r|^2 + 2 |h|^2.
  EXPECT_LE(json_value(gauge, "remainder_refined"),
            2 * (json_value(gauge, "remainder_share") + json_value(gauge, "remainder_fit_error")));
  EXPECT_EQ(json_value(gauge, "gauge_divergence_probes"), 0.0);

  EXPECT_EQ(run_command(flowlab() + " diagnose " + run + " --times 1.5").exit_code, 2);
  EXPECT_EQ(run_command(flowlab() + " diagnose " + run + " --radii 0").exit_code, 2);
  EXPECT_EQ(run_command(flowlab() + " diagnose " + run + " --id-time 1").exit_code, 2);
  EXPECT_EQ(run_command(flowlab() + " diagnose " + run + " --id-directions 3").exit_code, 2);  // D = 2
  EXPECT_EQ(run_command(flowlab() + " diagnose " + dir.file("nothing")).exit_code, 1);
}

TEST(DiagnoseCli, BeyondExactJacobiansUsesProbesAndDirections) {
  // d = 80 > 64: no exact asymmetry, Hutchinson divergences in the gauge report, and the flow
  // Jacobian on random directions.
  TempDir dir;
  const std::string config = testing::source_dir() + "/configs/toy/moons.yaml";
  auto r = run_command(flowlab() + " train " + config + " --set run.dir=" + dir.path() +
                       " 'data={type: manifold, shape: subspace, intrinsic_dim: 3, ambient_dim: 80}'"
                       " run.name=flat run.threads=1 train.steps=100 train.eval_every=0 'model.hidden=[32, 32]'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " diagnose " + dir.path() + "/flat --times 0.5 --points 16 --probes 4 --radii 0.1" +
                  " --gauge-steps 20 --id-points 6 --id-samples 100 --id-directions 8 --set eval.n=200 --json " +
                  dir.file("f.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string json = read_file(dir.file("f.json"));
  EXPECT_EQ(json.find("\"asymmetry\":"), std::string::npos) << json;
  EXPECT_GT(json_value(json, "asymmetry_randomized"), 0.0);
  EXPECT_EQ(json_value(json, "gauge_divergence_probes"), 4.0);
  EXPECT_GE(json_value(json, "gauge_residual_rms"), 0.0);
  ASSERT_NE(json.find("\"intrinsic_dimension_flow\""), std::string::npos) << json;
  // Eight directions give seven gaps: every estimate lies in [1, 7].
  std::smatch estimates;
  const std::string flow = json.substr(json.find("\"intrinsic_dimension_flow\""));
  ASSERT_TRUE(std::regex_search(flow, estimates, std::regex("\"estimates\": \\[([0-9, ]+)\\]"))) << flow;
  std::stringstream list(estimates[1].str());
  std::string value;
  int count = 0;
  while (std::getline(list, value, ',')) {
    EXPECT_GE(std::stoi(value), 1);
    EXPECT_LE(std::stoi(value), 7);
    ++count;
  }
  EXPECT_EQ(count, 6);
  EXPECT_NE(r.output.find("8 random directions"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace flowlab
