// Nothing lost, nothing crashes: a full disk while checkpointing, corrupt checkpoints and the
// fallback to the newest readable one, through the flowlab executable.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::CommandResult;
using testing::flowlab;
using testing::read_file;
using testing::run_command;
using testing::TempDir;

std::string short_moons_run(const TempDir& dir, const std::string& name, int steps, const std::string& extra = "") {
  return flowlab() + " train " + testing::source_dir() + "/configs/toy/moons.yaml --set run.dir=" + dir.path() +
         " --set run.name=" + name + " --set train.steps=" + std::to_string(steps) +
         " --set train.eval_every=0 --set train.log_every=10 --set train.checkpoint_every=20 --set train.keep_last=0"
         " --set run.threads=1 " + extra;
}

TEST(Reliability, AFullDiskIsAClearErrorAndLeavesNoTemporaryFile) {
  TempDir dir;
  // The process may write files of at most 300 kB (a checkpoint here is about 680 kB): writes
  // fail with EFBIG as on a full disk (SIGXFSZ ignored, so the write reports it).
  CommandResult r = run_command("bash -c \"trap '' XFSZ; ulimit -f 300; exec " + short_moons_run(dir, "full", 40) + "\"");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot write"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("step_000000020.pt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("File too large"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/full/checkpoints")) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

// Every file in `dir` whose name starts with `prefix`.
std::vector<std::string> files_starting(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) found.push_back(name);
  }
  return found;
}

TEST(Reliability, AFullDiskWhileWritingSamplesOrFiguresIsAClearError) {
  TempDir dir;
  ASSERT_EQ(run_command(short_moons_run(dir, "run", 20)).exit_code, 0);
  const std::string sample = flowlab() + " sample " + dir.path() + "/run ";
  const auto limited = [](int kilobytes, const std::string& command) {
    return run_command("bash -c \"trap '' XFSZ; ulimit -f " + std::to_string(kilobytes) + "; exec " + command + "\"");
  };
  // 4000 samples are 32 kB of .npy: over a limit of 8 kB.
  CommandResult r = limited(8, sample + "--n 4000 --out " + dir.file("big.npy"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot write " + dir.file("big.npy")), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("File too large"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  EXPECT_TRUE(files_starting(dir.path(), "big").empty());
  // 300 samples (2.4 kB) fit in 24 kB; their figure's PNG, SVG and JSON do not all fit.
  r = limited(24, sample + "--n 300 --out " + dir.file("small.npy") + " --plot " + dir.file("fig.png"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot write " + dir.file("fig.")), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("File too large"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("small.npy")));
  // No temporary file is left; a figure file is either whole or absent.
  for (const std::string& name : files_starting(dir.path(), "fig")) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  }
  // Without the limit the same command writes all three.
  r = run_command(sample + "--n 300 --out " + dir.file("small.npy") + " --plot " + dir.file("fig.png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(files_starting(dir.path(), "fig").size(), 3u);
}

void cut_in_half(const std::string& file) {
  const std::string bytes = read_file(file);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
}

void flip_a_byte(const std::string& file) {
  std::string bytes = read_file(file);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(Reliability, ACorruptNewestCheckpointFallsBackToTheNewestReadableOne) {
  TempDir dir;
  ASSERT_EQ(run_command(short_moons_run(dir, "run", 60)).exit_code, 0);
  const std::string run = dir.path() + "/run";
  const std::string step20 = run + "/checkpoints/step_000000020.pt", step40 = run + "/checkpoints/step_000000040.pt",
                    step60 = run + "/checkpoints/step_000000060.pt";
  cut_in_half(step60);
  const std::string sample = flowlab() + " sample " + run + " --n 20 --steps 2 --out " + dir.file("x.npy");
  CommandResult r = run_command(sample);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("step_000000060.pt is corrupt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("using " + step40 + " (step 40) instead"), std::string::npos) << r.output;
  // A checkpoint named on the command line is that file or an error.
  r = run_command(sample + " --checkpoint " + step60);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("corrupt"), std::string::npos) << r.output;
  // A flipped bit, same length: the CRC-32 finds it (PyTorch's reader would load the wrong weights).
  flip_a_byte(step40);
  r = run_command(flowlab() + " eval " + run + " --n 50 --metrics energy_distance");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("step_000000040.pt is corrupt: CRC-32"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("using " + step20 + " (step 20) instead"), std::string::npos) << r.output;
  // --resume continues from the newest readable checkpoint.
  r = run_command(short_moons_run(dir, "run", 60, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming " + run + " from step 20"), std::string::npos) << r.output;
  // None readable: an error that names each.
  for (const std::string& f : {step20, step40, step60}) cut_in_half(f);
  r = run_command(sample);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no readable checkpoint"), std::string::npos) << r.output;
}

TEST(Reliability, KillNineAtRandomMomentsNeverLeavesTheRunUnresumable) {
  TempDir dir;
  const std::string run = dir.path() + "/killed";
  std::mt19937 random(7);  // seeded: the same moments every time
  std::uniform_int_distribution<int> delay_ms(150, 1500);
  // Checkpoints every 5 steps, so kills land in writes as well as in steps.
  const std::string command = short_moons_run(dir, "killed", 1000000, "--set train.checkpoint_every=5 --set train.keep_last=2");
  for (int round = 0; round < 6; ++round) {
    const bool resume = std::filesystem::exists(run + "/checkpoints") && !std::filesystem::is_empty(run + "/checkpoints");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const std::string line = "exec " + command + (resume ? " --resume" : "") + " > /dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  // However it was killed, the run resumes and finishes, and its newest checkpoint samples.
  int64_t newest = 0;
  for (const auto& entry : std::filesystem::directory_iterator(run + "/checkpoints")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && name.size() == 17) newest = std::max<int64_t>(newest, std::stoll(name.substr(5, 9)));
  }
  ASSERT_GT(newest, 0) << "no checkpoint was written before the kills";
  CommandResult r = run_command(
      short_moons_run(dir, "killed", static_cast<int>(newest + 10), "--set train.checkpoint_every=5") + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " sample " + run + " --n 10 --steps 2 --out " + dir.file("x.npy"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("corrupt"), std::string::npos) << r.output;
  // A write cut short leaves a temporary file; the next run removes it.
  for (const auto& entry : std::filesystem::directory_iterator(run + "/checkpoints")) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(Reliability, PythonReadsACheckpointWithItsChecksumTrailer) {
  if (!testing::python_has("torch")) GTEST_SKIP() << "no torch in the oracle python";
  TempDir dir;
  ASSERT_EQ(run_command(short_moons_run(dir, "run", 20)).exit_code, 0);
  const std::string out = testing::run_python(
      "import torch\nstate = torch.jit.load('" + dir.path() +
      "/run/checkpoints/step_000000020.pt').state_dict()\n"
      "print(sorted(k for k in state if k.startswith('modules.model.'))[0], int(state['step']))\n");
  EXPECT_NE(out.find("modules.model."), std::string::npos) << out;
  EXPECT_NE(out.find(" 20"), std::string::npos) << out;
}

}  // namespace
}  // namespace flowlab
