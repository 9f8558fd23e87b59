// End to end: a class-conditional run samples chosen classes, with and without guidance; runs
// written by earlier versions of flowlab still sample, evaluate and diagnose.
#include <gtest/gtest.h>
#include <torch/version.h>

#include <filesystem>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::read_file;
using testing::run_command;
using testing::run_python;
using testing::TempDir;

using testing::flowlab;

TEST(ConditionalCli, SamplesChosenClassesWithGuidance) {
  TempDir dir;
  const std::string config = testing::source_dir() + "/configs/toy/8gaussians_conditional.yaml";
  auto r = run_command(flowlab() + " train " + config + " --set run.dir=" + dir.path() +
                       " run.name=cond run.threads=1 train.steps=200 train.log_every=100 train.eval_every=0" +
                       " model.hidden=[32,32]");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string run = dir.path() + "/cond";
  // --class K (repeatable): equal shares in order; the labels are written beside the samples.
  r = run_command(flowlab() + " sample " + run + " --n 10 --steps 4 --class 3 --class 5 --guidance 2 --out " +
                  dir.file("s.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("guidance 2"), std::string::npos) << r.output;
  const std::string labels = run_python("import numpy as np\nprint(np.load('" + dir.file("s_labels.npy") +
                                        "').tolist(), np.load('" + dir.file("s.npy") + "').shape)\n");
  EXPECT_NE(labels.find("[3, 5, 3, 5, 3, 5, 3, 5, 3, 5] (10, 2)"), std::string::npos) << labels;
  r = run_command(flowlab() + " sample " + run + " --n 16 --steps 4 --classes none --out " + dir.file("u.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " eval " + run + " --n 200 --classes all --guidance 1.5 --json " + dir.file("e.json") +
                  " --set sample.steps=4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string json = read_file(dir.file("e.json"));
  EXPECT_NE(json.find("\"guidance\": 1.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"classes\": \"all\""), std::string::npos) << json;
  // diagnose analyses one class's field (or the unconditional one), with guidance.
  r = run_command(flowlab() + " diagnose " + run + " --class 2 --guidance 2 --times 0.5 --points 16 --id-points 0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " diagnose " + run + " --classes none --times 0.5 --points 16 --id-points 0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " diagnose " + run + " --times 0.5 --points 16 --id-points 0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--class K"), std::string::npos) << r.output;
  // Bad classes are config errors that name the key.
  r = run_command(flowlab() + " sample " + run + " --n 4 --class 8");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sample.class"), std::string::npos) << r.output;
  r = run_command(flowlab() + " sample " + run + " --n 4 --classes some");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  // An unconditional run refuses classes and guidance.
  r = run_command(flowlab() + " train " + testing::source_dir() + "/configs/toy/moons.yaml --set run.dir=" +
                  dir.path() + " run.name=plain run.threads=1 train.steps=5 train.eval_every=0 model.hidden=[8]");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " sample " + dir.path() + "/plain --n 4 --guidance 2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sample.guidance"), std::string::npos) << r.output;
}

// tests/fixtures/checkpoint_v2 holds a run trained by flowlab before checkpoints held named
// modules (format version 2), with samples drawn from it then: they must come out the same.
TEST(ConditionalCli, VersionTwoRunsStillSampleEvaluateDiagnoseAndResume) {
  TempDir dir;
  const std::string fixture = testing::source_dir() + "/tests/fixtures/checkpoint_v2";
  std::filesystem::copy(fixture + "/v2_run", dir.path() + "/v2_run", std::filesystem::copy_options::recursive);
  const std::string run = dir.path() + "/v2_run";
  auto r = run_command(flowlab() + " sample " + run + " --n 8 --seed 5 --out " + dir.file("s.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Bit for bit on the LibTorch that wrote them (1.13); to float32 rounding on another one (2.x,
  // another BLAS): measured 3e-8 there.
  const bool writer_libtorch = TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR == 13;
  const std::string same = run_python(
      "import numpy as np\na = np.load('" + dir.file("s.npy") + "')\nb = np.load('" + fixture +
      "/expected_samples.npy')\nd = float(np.abs(a - b).max())\nprint(d, a.shape == b.shape and d " +
      (writer_libtorch ? "== 0.0" : "< 1e-6") + ")\n");
  EXPECT_NE(same.find("True"), std::string::npos) << same;
  r = run_command(flowlab() + " eval " + run + " --n 100");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " diagnose " + run + " --times 0.5 --points 16 --id-points 0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Training resumes from it (model, EMA, optimizer and generator) and writes format 3.
  r = run_command(flowlab() + " train " + run + "/config.yaml --set run.dir=" + dir.path() +
                  " train.steps=25 train.log_every=5 --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(run + "/checkpoints/step_000000025.pt"));
  r = run_command(flowlab() + " sample " + run + " --n 8 --seed 5 --out " + dir.file("after.npy"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace flowlab
