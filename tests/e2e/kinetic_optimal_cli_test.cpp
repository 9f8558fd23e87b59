// End to end: a kinetic-optimal run computes its path from the data once, when training starts;
// sampling and evaluation take it from the checkpoint; path-energy and eval report energies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::json_value;
using testing::read_file;
using testing::run_command;
using testing::TempDir;

using testing::flowlab;

TEST(KineticOptimalCli, TrainsSamplesAndReportsEnergies) {
  TempDir dir;
  const std::string config = testing::source_dir() + "/configs/toy/checkerboard_ko.yaml";
  const std::string small_path =
      " --set path.data_points=600 path.noise_samples=128 path.knots=10 path.intervals=64 path.minimise_intervals=16";
  auto r = run_command(flowlab() + " train " + config + " --set run.dir=" + dir.path() +
                       " run.name=ko run.threads=1 train.steps=40 train.batch_size=256 train.log_every=20" +
                       " model.hidden=[32,32]" + small_path);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("kinetic_optimal: lambda from 600 data points"), std::string::npos) << r.output;
  const std::string run = dir.path() + "/ko";

  // Sampling uses the checkpoint's schedule: nothing is estimated again, and two calls agree.
  for (const char* name : {"a.npy", "b.npy"}) {
    r = run_command(flowlab() + " sample " + run + " --n 64 --steps 6 --out " + dir.file(name));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find("lambda from"), std::string::npos) << r.output;
  }
  EXPECT_EQ(read_file(dir.file("a.npy")), read_file(dir.file("b.npy")));

  r = run_command(flowlab() + " eval " + run + " --metrics kinetic_energy --n 500 --json " + dir.file("eval.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string eval = read_file(dir.file("eval.json"));
  EXPECT_GT(json_value(eval, "kinetic_energy"), 0.0);
  EXPECT_GT(json_value(eval, "kinetic_energy_se"), 0.0);

  r = run_command(flowlab() + " path-energy " + run + " --data-points 500 --noise-samples 64 --knots 8 --n 300" +
                  " --paths cond_ot trig kinetic_optimal --json " + dir.file("energy.json") + " --plot " +
                  dir.file("lambda.png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string energy = read_file(dir.file("energy.json"));
  EXPECT_GT(json_value(energy, "model_energy"), 0.0);
  // The KO path has the least energy of the three, by construction (same lambda estimate).
  EXPECT_LT(json_value(energy, "kinetic_optimal"), json_value(energy, "trig"));
  EXPECT_LT(json_value(energy, "kinetic_optimal"), json_value(energy, "cond_ot"));
  EXPECT_NEAR(json_value(energy, "second_moment"), 1.0, 0.1);  // the config scales the data to mu2 = 1
  EXPECT_TRUE(std::filesystem::exists(dir.file("lambda.png")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("lambda_schedule.png")));

  // A config file works too (no model), and bad options fail as usage errors.
  r = run_command(flowlab() + " path-energy " + config + " --set run.threads=1 --data-points 300 --noise-samples 32" +
                  " --knots 4 --paths vp");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vp "), std::string::npos) << r.output;
  // Only data: is needed (no model, objective or train section).
  {
    std::ofstream(dir.file("data_only.yaml")) << "data: {type: toy2d, name: checkerboard}\n";
  }
  r = run_command(flowlab() + " path-energy " + dir.file("data_only.yaml") +
                  " --data-points 300 --noise-samples 32 --knots 4 --paths cond_ot --json " + dir.file("d.json"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(json_value(read_file(dir.file("d.json")), "cond_ot"), 0.0);
  r = run_command(flowlab() + " path-energy " + config + " --knots 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("knots"), std::string::npos) << r.output;
  r = run_command(flowlab() + " path-energy " + dir.file("missing.yaml"));
  EXPECT_EQ(r.exit_code, 1) << r.output;

  // kinetic_energy draws x0 ~ N(0, I): refused on a path with another source.
  const std::string two_sided = testing::source_dir() + "/configs/toy/8gaussians_to_moons.yaml";
  r = run_command(flowlab() + " train " + two_sided + " --set run.dir=" + dir.path() +
                  " run.name=two_sided run.threads=1 train.steps=5 eval.metrics=[kinetic_energy]");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("kinetic_energy draws x_t with x0 ~ N(0, I)"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace flowlab
