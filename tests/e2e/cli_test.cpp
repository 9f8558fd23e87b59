// End-to-end tests through the flowlab executable.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::CommandResult;
using testing::run_command;
using testing::TempDir;

using testing::flowlab;
std::string moons_config() { return testing::source_dir() + "/configs/toy/moons.yaml"; }

using testing::json_value;
using testing::read_file;

// A short moons run: small network, few steps, all in `dir`.
std::string short_run(const TempDir& dir, const std::string& name, int steps, const std::string& extra = "") {
  return flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() + " --set run.name=" + name +
         " --set train.steps=" + std::to_string(steps) +
         " --set train.schedule.warmup=100 --set train.eval_every=0 --set train.log_every=50"
         " --set train.checkpoint_every=500 --set train.ema.decay=0.995 --set run.threads=1 " + extra;
}

TEST(Cli, VersionHelpAndUsageErrors) {
  CommandResult r = run_command(flowlab() + " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("flowlab 0."), std::string::npos);
  EXPECT_EQ(run_command(flowlab() + " train --help").exit_code, 0);
  EXPECT_EQ(run_command(flowlab() + " sample --help").exit_code, 0);
  EXPECT_EQ(run_command(flowlab() + " eval --help").exit_code, 0);
  EXPECT_EQ(run_command(flowlab() + " path-energy --help").exit_code, 0);
  EXPECT_EQ(run_command(flowlab()).exit_code, 2);
  EXPECT_EQ(run_command(flowlab() + " trian x.yaml").exit_code, 2);
  EXPECT_EQ(run_command(flowlab() + " train").exit_code, 2);
}

TEST(Cli, ListDocumentsComponentsFromTheCode) {
  CommandResult r = run_command(flowlab() + " list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* word : {"toy2d", "gaussian_mixture", "fashion_mnist", "cond_ot", "mlp", "flow_matching", "dopri5",
                           "energy_distance", "adamw", "cosine", "time_embedding.dim", "also_predicts",
                           "euler_maruyama", "stochastic_heun", "vp_cosine", "mirror", "tabulated", "kinetic_optimal",
                           "noise_samples"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << word;
  }
  r = run_command(flowlab() + " list tasks");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("monge_map"), std::string::npos) << r.output;
  r = run_command(flowlab() + " list solvers");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.find("toy2d"), std::string::npos);
  r = run_command(flowlab() + " list solver");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("did you mean 'solvers'"), std::string::npos) << r.output;
}

TEST(Cli, ConfigErrorsExitTwoWithKeyPathAndLine) {
  TempDir dir;
  {
    std::ofstream(dir.file("bad.yaml")) << read_file(moons_config()) << "trian: {steps: 3}\n";
  }
  CommandResult r = run_command(flowlab() + " train " + dir.file("bad.yaml") + " --set run.dir=" + dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("trian: unknown key (did you mean 'train'?)"), std::string::npos) << r.output;
  const std::string moons = read_file(moons_config());
  const auto line = std::count(moons.begin(), moons.end(), '\n') + 1;
  EXPECT_NE(r.output.find("bad.yaml:" + std::to_string(line) + ":1"), std::string::npos) << r.output;

  r = run_command(flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() +
                  " --set train.optimizer.lr=-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("train.optimizer.lr: expected a number > 0, got '-1' (--set train.optimizer.lr=-1)"),
            std::string::npos)
      << r.output;

  r = run_command(flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() + " --set data.name=moon");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("did you mean 'moons'"), std::string::npos) << r.output;

  r = run_command(flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() + " --set model.type=mpl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown networks 'mpl' (did you mean 'mlp'?)"), std::string::npos) << r.output;

  // On a two-sided path a data prediction alone does not determine the velocity.
  const std::string two_sided = testing::source_dir() + "/configs/toy/8gaussians_to_moons.yaml";
  r = run_command(flowlab() + " train " + two_sided + " --set run.dir=" + dir.path() + " --set model.predicts=data");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("model.predicts: these fields do not determine the velocity"), std::string::npos)
      << r.output;
  r = run_command(flowlab() + " train " + two_sided + " --set run.dir=" + dir.path() + " --set model.predicts=noise");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("model.predicts: a noise prediction E[x0|x_t] needs a Gaussian source"), std::string::npos)
      << r.output;

  // GPU options that cannot apply are config errors, not silent no-ops.
  r = run_command(flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() +
                  " --set sample.cuda_graph=true --set sample.solver=dopri5");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("sample.cuda_graph: needs a fixed-step solver"), std::string::npos) << r.output;
  r = run_command(flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() + " --set train.precision=fp16");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("train.precision"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bf16"), std::string::npos) << r.output;

  r = run_command(flowlab() + " train " + dir.file("missing.yaml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cannot read config file"), std::string::npos) << r.output;
}

TEST(Cli, TrainedMoonsBeatUntrainedOnEnergyDistance) {
  TempDir dir;
  CommandResult r = run_command(short_run(dir, "trained", 3000));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(short_run(dir, "untrained", 1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"trained", "untrained"}) {
    r = run_command(flowlab() + " eval " + dir.path() + "/" + name + " --n 2000 --json " + dir.file(std::string(name) + ".json"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const double trained = json_value(read_file(dir.file("trained.json")), "energy_distance");
  const double untrained = json_value(read_file(dir.file("untrained.json")), "energy_distance");
  std::cout << "energy distance: trained " << trained << ", untrained " << untrained << "\n";
  // Two samples of the same distribution give about 0.05 at n = 2000 (the estimator's floor).
  EXPECT_LT(trained, 0.16);
  EXPECT_GT(untrained, 0.3);
  EXPECT_LT(trained, 0.4 * untrained);

  // sample writes .npy that numpy reads, and a PNG.
  r = run_command(flowlab() + " sample " + dir.path() + "/trained --n 300 --solver rk4 --steps 20 --out " +
                  dir.file("s.npy") + " --plot " + dir.file("s.png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string py = testing::run_python("import numpy as np\nx = np.load('" + dir.file("s.npy") +
                                             "')\nprint(x.shape, x.dtype, bool(np.isfinite(x).all()))\n");
  EXPECT_NE(py.find("(300, 2) float32 True"), std::string::npos) << py;
  EXPECT_GT(std::filesystem::file_size(dir.file("s.png")), 1000u);
  r = run_command(flowlab() + " sample " + dir.path() + "/trained --n 100 --solver dopri5 --atol 1e-4 --rtol 1e-4 --out " +
                  dir.file("d.npy"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Tolerances below 1e-6 reach the config as given (they once became "0.000000" and were refused).
  r = run_command(flowlab() + " sample " + dir.path() + "/trained --n 20 --solver dopri5 --atol 1e-7 --rtol 2.5e-8 --out " +
                  dir.file("tight.npy"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(Cli, SdeSamplesLikelihoodAndTwoFieldModels) {
  TempDir dir;
  // One-sided moons with a velocity network: the score comes from the path's conversion.
  CommandResult r = run_command(short_run(dir, "moons", 2000));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string run = dir.path() + "/moons";
  r = run_command(flowlab() + " eval " + run + " --n 2000 --sde --eps 0.5 --set sample.sde.eps_schedule=linear_decay"
                  " --metrics energy_distance nll --json " + dir.file("sde.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string json = read_file(dir.file("sde.json"));
  std::cout << json;
  EXPECT_LT(json_value(json, "energy_distance"), 0.16);  // two data samples give about 0.05 at n = 2000
  // Moons (scale 2) has its density near two arcs: N(0, I) gives these points log(2 pi) + E|x|^2/2
  // = 3.83 nats, the learned flow clearly less; its standard error is reported.
  EXPECT_LT(json_value(json, "nll"), 3.3);
  EXPECT_GT(json_value(json, "nll_se"), 0.0);
  EXPECT_NEAR(json_value(json, "bpd"), json_value(json, "nll") / (2 * std::log(2.0)), 1e-6);

  // Sample i does not depend on the batch it was drawn in (up to the float32 rounding of GEMMs,
  // whose blocking depends on the batch size).
  for (const char* batch : {"7", "50"}) {
    r = run_command(flowlab() + " sample " + run + " --n 50 --sde --eps 0.3 --set sample.batch_size=" + batch +
                    " --set sample.sde.steps=20 --out " + dir.file(std::string("b") + batch + ".npy"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const std::string diff = testing::run_python("import numpy as np\na = np.load('" + dir.file("b7.npy") +
                                               "')\nb = np.load('" + dir.file("b50.npy") +
                                               "')\nprint('maxdiff', float(abs(a - b).max()), float(abs(a).max()))\n");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(diff, m, std::regex("maxdiff ([0-9.eE+-]+) ([0-9.eE+-]+)"))) << diff;
  EXPECT_LT(std::stod(m[1]), 1e-4) << diff;
  EXPECT_GT(std::stod(m[2]), 0.5) << diff;

  // nll of given points: the same points give the same value as a file.
  r = run_command(flowlab() + " sample " + run + " --n 200 --out " + dir.file("points.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " eval " + run + " --metrics nll --data " + dir.file("points.npy") +
                  " --set eval.likelihood.divergence=hutchinson --set eval.likelihood.probes=4 --json " +
                  dir.file("nll.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file(dir.file("nll.json")).find("\"nll_points\": 200"), std::string::npos);
  r = run_command(flowlab() + " eval " + run + " --metrics nll --data " + dir.file("missing.npy"));
  EXPECT_EQ(r.exit_code, 1) << r.output;

  // A two-sided path needs a second field for the SDE; v + denoiser trains and samples both ways.
  const std::string two_sided = testing::source_dir() + "/configs/toy/8gaussians_to_moons.yaml";
  const std::string base = flowlab() + " train " + two_sided + " --set run.dir=" + dir.path() +
                           " --set run.threads=1 --set train.steps=30 --set train.eval_every=0";
  r = run_command(base + " --set run.name=velocity_only --set sample.sde.enabled=true");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("sample.sde.enabled: SDE sampling needs the score"), std::string::npos) << r.output;
  r = run_command(base + " --set run.name=two_fields --set model.predicts=interpolant_velocity"
                  " --set model.also_predicts=denoiser --set model.heads=shared --set objective.antithetic=true");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " sample " + dir.path() + "/two_fields --n 64 --sde --eps 0.2 --set sample.sde.t_end=0.99");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " sample " + dir.path() + "/two_fields --n 64");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " eval " + dir.path() + "/two_fields --metrics nll --n 16");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // an 8-Gaussians dataset source has no density
  EXPECT_NE(r.output.find("nll needs a source with a known density"), std::string::npos) << r.output;
}

TEST(Cli, ResumeContinuesExactly) {
  TempDir dir;
  const std::string extra = "--set train.log_every=1 --set train.checkpoint_every=20 --set train.keep_last=0";
  CommandResult r = run_command(short_run(dir, "full", 60, extra));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(short_run(dir, "cut", 60, extra));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Pretend the second run died after step 20: drop later checkpoints, then resume.
  const std::string cut = dir.path() + "/cut";
  std::filesystem::remove(cut + "/checkpoints/step_000000040.pt");
  std::filesystem::remove(cut + "/checkpoints/step_000000060.pt");
  r = run_command(short_run(dir, "cut", 60, extra + " --resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;

  auto losses = [&](const std::string& run) {
    std::vector<std::string> out;
    std::ifstream in(dir.path() + "/" + run + "/metrics.jsonl");
    std::smatch m;
    for (std::string line; std::getline(in, line);) {
      if (std::regex_search(line, m, std::regex("\"loss\": ([^,]+)"))) out.push_back(m[1]);
    }
    return out;
  };
  const auto full = losses("full"), resumed = losses("cut");
  ASSERT_EQ(full.size(), 60u);
  EXPECT_EQ(full, resumed);

  // The saved config alone reproduces the run.
  r = run_command(flowlab() + " train " + dir.path() + "/full/config.yaml --set run.name=again");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(losses("again"), full);

  // Training again without --resume refuses to clobber the run.
  r = run_command(short_run(dir, "full", 60));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("already holds checkpoints"), std::string::npos) << r.output;
}

TEST(Cli, CtrlCSavesACheckpointAndExits130) {
  TempDir dir;
  const std::string log = dir.file("log.txt");
  const std::string command = short_run(dir, "long", 1000000, "--set train.log_every=10") + " > " + log + " 2>&1";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until training has logged a few steps.
  const std::string metrics = dir.path() + "/long/metrics.jsonl";
  for (int i = 0; i < 600 && read_file(metrics).size() < 200; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GT(read_file(metrics).size(), 0u) << read_file(log);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_file(log);
  EXPECT_NE(read_file(log).find("interrupted at step"), std::string::npos) << read_file(log);
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/long/checkpoints")) {
    found = found || e.path().extension() == ".pt";
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
  EXPECT_TRUE(found);
  CommandResult r = run_command(flowlab() + " sample " + dir.path() + "/long --n 50 --steps 5 --out " + dir.file("x.npy"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(Cli, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
  TempDir dir;
  // 400 clean rows and one huge row whose squared error overflows float32: some batch
  // eventually draws it, and the loss becomes infinite there.
  testing::run_python("import numpy as np\nx = np.random.default_rng(0).normal(size=(401, 2)).astype(np.float32)\n"
                      "x[200] = 1e30\nnp.save('" + dir.file("data.npy") + "', x)\n");
  CommandResult r = run_command(flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() +
                                " --set run.name=nan --set 'data={type: npy, path: " + dir.file("data.npy") +
                                "}' --set train.batch_size=4 --set train.steps=5000 --set train.checkpoint_every=10"
                                " --set train.eval_every=0 --set 'model.hidden=[16]'");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("loss is (NaN|Infinity) at step ([0-9]+)"))) << r.output;
  const int bad_step = std::stoi(m[2]);
  EXPECT_GT(bad_step, 10) << r.output;
  EXPECT_NE(r.output.find("Last good checkpoint: " + dir.path() + "/nan/checkpoints/step_"), std::string::npos)
      << r.output;
  r = run_command(flowlab() + " sample " + dir.path() + "/nan --n 20 --steps 4 --out " + dir.file("x.npy"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string py = testing::run_python("import numpy as np\nprint(bool(np.isfinite(np.load('" + dir.file("x.npy") +
                                             "')).all()))\n");
  EXPECT_NE(py.find("True"), std::string::npos);

  // Checked on the device (CUDA's default: no host sync per step), read every 7 steps and before
  // each checkpoint: the same first bad step is named, and no checkpoint after it is written.
  r = run_command(flowlab() + " train " + moons_config() + " --set run.dir=" + dir.path() +
                  " --set run.name=nan_log --set 'data={type: npy, path: " + dir.file("data.npy") +
                  "}' --set train.batch_size=4 --set train.steps=5000 --set train.checkpoint_every=10"
                  " --set train.eval_every=0 --set 'model.hidden=[16]' --set train.loss_check=log --set train.log_every=7");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("loss is not finite \\(checked on the device, read every 7 "
                                                        "steps\\) at step ([0-9]+)")))
      << r.output;
  EXPECT_EQ(std::stoi(m[1]), bad_step) << r.output;
  const std::string last_good = dir.path() + "/nan_log/checkpoints/step_" + [&] {
    char name[32];
    std::snprintf(name, sizeof(name), "%09d.pt", (bad_step - 1) / 10 * 10);
    return std::string(name);
  }();
  EXPECT_NE(r.output.find("Last good checkpoint: " + last_good), std::string::npos) << r.output;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/nan_log/checkpoints")) {
    const std::string name = entry.path().filename().string();
    EXPECT_LE(std::stoi(name.substr(5, 9)), bad_step - 1) << name << " written after the bad step " << bad_step;
  }
}

// A CIFAR-10 binary folder of random images: six files of two records each (label, then 3072 bytes).
std::string cifar10_folder(const TempDir& dir) {
  const std::string folder = dir.file("cifar-10-batches-bin");
  std::filesystem::create_directories(folder);
  uint32_t state = 12345;
  for (const char* name : {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"}) {
    std::ofstream out(folder + "/" + name + ".bin", std::ios::binary);
    for (int record = 0; record < 2; ++record) {
      out.put(static_cast<char>(record * 7 % 10));
      for (int i = 0; i < 3 * 32 * 32; ++i) {
        state = state * 1664525u + 1013904223u;
        out.put(static_cast<char>(state >> 24));
      }
    }
  }
  return folder;
}

TEST(Cli, EveryShippedConfigTrainsAndSamples) {
  // Each configs/**/*.yaml is also a smoke test: a few steps, then sampling (or scoring). In sorted
  // order, so classifier runs exist before the distillation configs that take them as teachers.
  TempDir dir;
  std::vector<std::filesystem::path> configs;
  for (const auto& e : std::filesystem::recursive_directory_iterator(testing::source_dir() + "/configs")) {
    if (e.path().extension() == ".yaml") configs.push_back(e.path());
  }
  std::sort(configs.begin(), configs.end());
  // One-step distillations last: their teachers are the flow runs of other configs.
  const std::regex onestep_task("(^|\\n)task: +onestep_distill");
  std::stable_partition(configs.begin(), configs.end(), [&](const std::filesystem::path& p) {
    return !std::regex_search(testing::read_file(p.string()), onestep_task);
  });
  std::string classifier_run;  // the first classifier smoke run: the teacher of offline distillation
  std::map<std::string, std::string> flow_runs;  // a config's run.name -> its smoke run
  int count = 0;
  for (const std::filesystem::path& path : configs) {
    ++count;
    const std::string name = "smoke" + std::to_string(count);
    const std::string text = testing::read_file(path.string());
    const bool onestep = std::regex_search(text, onestep_task);
    std::string extra;
    std::smatch match;
    if (onestep) {
      // The teacher is the smoke run of the config whose run.name is the teacher run's folder.
      ASSERT_TRUE(std::regex_search(text, match, std::regex("teacher: *\\{ *run: *([^,}]+)"))) << path;
      const std::string teacher = std::filesystem::path(match[1].str()).filename().string();
      ASSERT_TRUE(flow_runs.count(teacher)) << path << ": no config with run.name " << teacher << " ran before it";
      extra += " --set teacher.run=" + flow_runs[teacher] + " --set train.batch_size=8";
    } else if (std::regex_search(text, std::regex("(^|\\n)teacher: *\\{ *run:"))) {
      ASSERT_FALSE(classifier_run.empty()) << path << ": no classifier config ran before it";
      extra += " --set teacher.run=" + classifier_run;
    }
    if (std::regex_search(text, std::regex("features: *\\{ *run:"))) {
      ASSERT_FALSE(classifier_run.empty()) << path << ": no classifier config ran before it";
      extra += " --set eval.features.run=" + classifier_run + " --set eval.n=32 --set sample.n=32";
    }
    if (std::regex_search(text, std::regex("type: *cifar10"))) extra += " --set data.dir=" + cifar10_folder(dir);
    // U-Nets sized for a GPU run narrow and small-batch here: the smoke test checks the config.
    if (std::regex_search(text, std::regex("type: *unet"))) extra += " --set model.channels=32 --set train.batch_size=4";
    CommandResult r = run_command(flowlab() + " train " + path.string() + " --set run.dir=" + dir.path() +
                                  " --set run.name=" + name + " --set run.threads=1 --set train.steps=20" +
                                  " --set train.eval_every=0 --set train.log_every=10" + extra);
    ASSERT_EQ(r.exit_code, 0) << path << "\n" << r.output;
    if (std::regex_search(text, match, std::regex("(^|\\n)run: *\\{ *name: *([A-Za-z0-9_]+)"))) {
      flow_runs[match[2].str()] = dir.path() + "/" + name;
    }
    if (std::regex_search(text, std::regex("task: +(distill_)?classifier"))) {
      if (classifier_run.empty() && std::regex_search(text, std::regex("(^|\\n)task: +classifier"))) {
        classifier_run = dir.path() + "/" + name;
      }
      // A classifier is scored, not sampled.
      r = run_command(flowlab() + " eval " + dir.path() + "/" + name + " --n 64 --json " + dir.file(name + ".json"));
      EXPECT_EQ(r.exit_code, 0) << path << "\n" << r.output;
      EXPECT_GT(testing::json_value(read_file(dir.file(name + ".json")), "accuracy"), 0.0) << r.output;
      r = run_command(flowlab() + " sample " + dir.path() + "/" + name + " --n 4");
      EXPECT_EQ(r.exit_code, 2) << r.output;
      EXPECT_NE(r.output.find("classifier run"), std::string::npos) << r.output;
      continue;
    }
    // A Monge map and a one-step generator are applied once; other runs integrate with 4 steps.
    const bool map = text.find("task:  monge_map") != std::string::npos || onestep;
    const bool images = std::regex_search(text, std::regex("type: *unet")) ||
                        (onestep && path.string().find("/images/") != std::string::npos);
    r = run_command(flowlab() + " sample " + dir.path() + "/" + name + (images ? " --n 8" : " --n 64") +
                    (map ? "" : " --steps 4"));
    EXPECT_EQ(r.exit_code, 0) << path << "\n" << r.output;
  }
  EXPECT_GE(count, 2);
}

// flowlab eval runs the evaluation that training logs: with the step's checkpoint and seed
// run.seed * 1000003 + step it prints the same numbers.
TEST(Cli, EvalReproducesTheTrainingEvaluation) {
  TempDir dir;
  CommandResult r = run_command(short_run(dir, "evals", 30, "--set train.eval_every=30 --set eval.n=300 "
                                                            "--set 'eval.metrics=[energy_distance, mmd]' --set run.seed=2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string logged = read_file(dir.path() + "/evals/metrics.jsonl");
  r = run_command(flowlab() + " eval " + dir.path() + "/evals --seed " + std::to_string(2 * 1000003 + 30) +
                  " --json " + dir.file("e.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string evaluated = read_file(dir.file("e.json"));
  for (const char* metric : {"energy_distance", "mmd"}) {
    EXPECT_EQ(json_value(evaluated, metric), json_value(logged, metric)) << metric << "\n" << logged << evaluated;
  }
}

TEST(Cli, MissingAndCorruptCheckpoints) {
  TempDir dir;
  CommandResult r = run_command(flowlab() + " sample " + dir.path() + "/nothing");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("not a flowlab run directory"), std::string::npos) << r.output;

  r = run_command(short_run(dir, "tiny", 3));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string ckpt = dir.path() + "/tiny/checkpoints/step_000000003.pt";
  ASSERT_TRUE(std::filesystem::exists(ckpt));
  r = run_command(flowlab() + " sample " + dir.path() + "/tiny --checkpoint " + dir.file("nope.pt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("does not exist"), std::string::npos) << r.output;

  // Truncate the checkpoint to half its size.
  const auto size = std::filesystem::file_size(ckpt);
  std::filesystem::resize_file(ckpt, size / 2);
  r = run_command(flowlab() + " sample " + dir.path() + "/tiny --n 10");
  EXPECT_EQ(r.exit_code, 1);
  // The only checkpoint: nothing to fall back to.
  EXPECT_NE(r.output.find("no readable checkpoint"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("checkpoint " + ckpt + " is corrupt"), std::string::npos) << r.output;
  {
    std::ofstream(ckpt, std::ios::trunc) << "not a checkpoint";
  }
  r = run_command(flowlab() + " eval " + dir.path() + "/tiny --n 10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("corrupt"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace flowlab
