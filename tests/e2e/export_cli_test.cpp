// scripts/export.py round trip: a run trained by the flowlab binary, its network evaluated through
// the library (train::load_run, the model `flowlab sample` uses) on fixed inputs, exported to a plain
// PyTorch state_dict, rebuilt in Python by scripts/flowlab_models.py and evaluated on the same
// inputs; both must agree to float32 rounding. MLPs (plain, conditional with residual blocks,
// energy), U-Nets (ADM and DDPM conditioning, attention, resampling convs or blocks, shared
// heads) and a CNN classifier.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "flowlab/builtins.h"
#include "flowlab/io/npy.h"
#include "flowlab/paths/prediction.h"
#include "flowlab/train/classifier_task.h"
#include "flowlab/train/run.h"
#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::flowlab;
using testing::run_command;
using testing::TempDir;

struct Difference {
  double max_abs_diff = -1, max_abs_value = -1;
};

// Exports `run` with scripts/export.py into `out`, rebuilds it in Python and evaluates it on the
// inputs in `dir` (x.npy, t.npy, labels.npy where given); returns per output name the largest
// |python - flowlab| and the largest |flowlab| of out_<name>.npy.
std::map<std::string, Difference> python_round_trip(const TempDir& dir, const std::string& run, bool classifier,
                                                    bool labels) {
  const std::string out = dir.file("export");
  std::ostringstream script;
  // python3 scripts/export.py RUN --out OUT, then the rebuild, in one interpreter (one torch import).
  script << "import runpy, sys\n"
            "sys.argv = ['export.py', '" << run << "', '--out', '" << out << "']\n"
            "runpy.run_path('" << testing::source_dir() << "/scripts/export.py', run_name='__main__')\n";
  script << "import numpy as np, torch\n"
            "sys.path.insert(0, '" << testing::source_dir() << "/scripts')\n"
            "import flowlab_models\n"
            "out, d = '" << out << "', '" << dir.path() << "'\n"
            "state = torch.load(out + '/model.pt')\n"
            "assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())\n"
            "text = open(out + '/config.yaml').read()\n"
            "assert text == open('" << run << "/config.yaml').read()\n"
            "def plain(v):  # PyYAML reads 1e-08 as a string (YAML 1.1), flowlab as a number\n"
            "    if isinstance(v, dict): return {k: plain(w) for k, w in v.items()}\n"
            "    if isinstance(v, list): return [plain(w) for w in v]\n"
            "    try: return float(v) if isinstance(v, str) else v\n"
            "    except ValueError: return v\n"
            "try:\n"
            "    import yaml\n"
            "    assert plain(flowlab_models.read_yaml_subset(text)) == plain(yaml.safe_load(text)), 'YAML readers differ'\n"
            "except ImportError:\n"
            "    pass\n"
            "model = flowlab_models.load_exported(out)\n"
            "x = torch.from_numpy(np.load(d + '/x.npy'))\n"
            "with torch.no_grad():\n";
  if (classifier) {
    script << "    outs = {'logits': model(x)}\n";
  } else {
    script << "    t = torch.from_numpy(np.load(d + '/t.npy'))\n"
              "    labels = " << (labels ? "torch.from_numpy(np.load(d + '/labels.npy'))" : "None") << "\n"
              "    outs = model(x, t, labels)\n";
  }
  script << "for name, value in outs.items():\n"
            "    ref = torch.from_numpy(np.load(d + '/out_' + name + '.npy'))\n"
            "    assert value.shape == ref.shape, (name, value.shape, ref.shape)\n"
            "    print('field', name, float((value - ref).abs().max()), float(ref.abs().max()))\n"
            "print('fields', len(outs))\n";
  std::map<std::string, Difference> found;
  const std::string printed = testing::run_python(script.str());
  EXPECT_NE(printed.find("model.pt"), std::string::npos) << printed;
  std::istringstream lines(printed);
  std::string word, name;
  while (lines >> word) {
    if (word != "field") continue;
    Difference d;
    lines >> name >> d.max_abs_diff >> d.max_abs_value;
    found[name] = d;
  }
  return found;
}

// The same inputs every time: x ~ N(0, 1) shaped [batch, shape...], t in (0, 1) (each sample its
// own), labels cycling through every class and the null class -1.
torch::Tensor fixed_normal(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn(shape, gen, torch::kFloat32);
}

// Checks every field of `expected` against Python: the outputs are not all zero (so agreement
// means something), and Python's are within 1e-5 of flowlab's, relative to their largest value.
void expect_agreement(const std::map<std::string, torch::Tensor>& expected,
                      const std::map<std::string, Difference>& found, const std::string& what) {
  EXPECT_EQ(found.size(), expected.size()) << what;
  for (const auto& [name, value] : expected) {
    auto it = found.find(name);
    ASSERT_NE(it, found.end()) << what << ": Python gave no field " << name;
    const double scale = value.abs().max().item<double>();
    EXPECT_GT(scale, 1e-2) << what << " " << name << ": outputs too small to compare";
    EXPECT_NEAR(it->second.max_abs_value, scale, 1e-6 * std::max(1.0, scale)) << what << " " << name;
    EXPECT_LE(it->second.max_abs_diff, 1e-5 * std::max(1.0, scale)) << what << " " << name;
    std::cout << "[ export ] " << what << " " << name << ": max |python - flowlab| = " << it->second.max_abs_diff
              << ", max |flowlab| = " << scale << std::endl;
  }
}

// Trains CONFIG for a few steps with the --set overrides `sets`, evaluates the model flowlab samples
// with on fixed inputs, and compares with the exported network rebuilt in Python.
void flow_round_trip(const std::string& config, const std::string& sets, const std::string& what) {
  TempDir dir;
  const std::string run = dir.path() + "/run";
  testing::CommandResult r = run_command(flowlab() + " train " + testing::source_dir() + "/configs/" + config +
                                         " --set run.dir=" + dir.path() + " run.name=run run.threads=1" +
                                         " train.log_every=1 train.eval_every=0 " + sets);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  register_builtins();
  train::LoadedRun loaded = train::load_run(run);
  train::Experiment& exp = *loaded.experiment;
  nn::Model& model = exp.sample.use_ema ? *exp.ema_model : *exp.model;
  model.eval();
  std::vector<int64_t> shape = exp.data->sample_shape();
  const int64_t batch = 12;
  shape.insert(shape.begin(), batch);
  const torch::Tensor x = fixed_normal(shape, 11);
  const torch::Tensor t = torch::rand({batch}, at::detail::createCPUGenerator(12));
  data::Condition condition;
  const int64_t classes = model.num_classes();
  if (classes > 0) condition.labels = torch::arange(batch, torch::kLong).remainder(classes + 1) - 1;
  io::write_npy(dir.file("x.npy"), x);
  io::write_npy(dir.file("t.npy"), t);
  if (classes > 0) io::write_npy(dir.file("labels.npy"), condition.labels);

  std::map<std::string, torch::Tensor> expected;
  for (const auto& [prediction, value] : model.forward(x, t, condition)) {
    const torch::Tensor detached = value.detach().contiguous();
    expected[paths::to_string(prediction)] = detached;
    io::write_npy(dir.file("out_" + paths::to_string(prediction) + ".npy"), detached);
  }
  expect_agreement(expected, python_round_trip(dir, run, false, classes > 0), what);
}

bool python_ready() {
  static const bool ready = testing::python_has("torch, numpy");
  return ready;
}

// scripts/setup.sh installs the oracle's torch and numpy: without them the test fails, not skips.
#define REQUIRE_PYTHON_TORCH() \
  ASSERT_TRUE(python_ready()) << "the oracle python cannot import torch and numpy (run scripts/setup.sh)"

TEST(Export, MlpOfMoonsRoundTripsThroughPython) {
  REQUIRE_PYTHON_TORCH();
  // moons.yaml's network (3 x 128, silu, sinusoidal time), EMA weights as `flowlab sample` uses.
  flow_round_trip("toy/moons.yaml", "train.steps=20", "mlp moons");
}

TEST(Export, ConditionalResidualMlpWithTwoFieldsRoundTrips) {
  REQUIRE_PYTHON_TORCH();
  // Class embedding (labels and the null class), residual blocks, gelu, random Fourier time
  // features, a second field in a second network.
  flow_round_trip("toy/8gaussians_conditional.yaml",
                  "train.steps=20 model.hidden=[32,32,32] model.residual=true model.activation=gelu"
                  " 'model.time_embedding={type: fourier, dim: 16, std: 4}' model.also_predicts=score",
                  "mlp conditional");
}

TEST(Export, EnergyMlpRoundTrips) {
  REQUIRE_PYTHON_TORCH();
  // -grad_x E through autograd, two fields on one trunk, softplus, t itself as the time feature.
  flow_round_trip("toy/moons.yaml",
                  "train.steps=10 model.type=energy_mlp model.hidden=[32,32] model.activation=softplus"
                  " 'model.time_embedding={type: identity}' model.also_predicts=score model.heads=shared",
                  "energy_mlp");
}

// A tiny U-Net on Fashion-MNIST for a few steps at a large learning rate, so that its
// zero-initialised output and residual convolutions have moved away from 0.
const std::string kTinyUNet =
    " train.steps=3 train.batch_size=4 train.checkpoint_every=0 train.optimizer.lr=0.01"
    " 'train.schedule={type: constant}' sample.use_ema=false 'eval={metrics: [], n: 8}'"
    " model.channels=8 model.channel_mult=[1,2] model.num_res_blocks=1 model.groups=4 model.dropout=0.1";

TEST(Export, ConditionalUNetRoundTripsThroughPython) {
  REQUIRE_PYTHON_TORCH();
  // ADM conditioning (scale and shift), attention with 2 heads at 14 x 14 (the second level and
  // the middle), strided and upsampling convolutions, class embedding with the null class.
  flow_round_trip("images/fashion_mnist_unet.yaml", kTinyUNet + " model.attention_resolutions=[14] model.num_heads=2",
                  "unet adm");
}

TEST(Export, DdpmUNetWithResamplingBlocksAndSharedHeadsRoundTrips) {
  REQUIRE_PYTHON_TORCH();
  // DDPM's additive embedding, resampling inside residual blocks, attention at 28 x 28 with heads of
  // 4 channels, velocity and score from one network.
  flow_round_trip("images/fashion_mnist_unet.yaml",
                  kTinyUNet + " model.scale_shift=false model.resblock_updown=true model.attention_resolutions=[28]"
                              " model.head_channels=4 model.also_predicts=score model.heads=shared",
                  "unet ddpm");
}

TEST(Export, CnnClassifierRoundTripsThroughPython) {
  REQUIRE_PYTHON_TORCH();
  TempDir dir;
  const std::string run = dir.path() + "/run";
  testing::CommandResult r = run_command(
      flowlab() + " train " + testing::source_dir() + "/configs/classifier/fashion_mnist_cnn.yaml" +
      " --set run.dir=" + dir.path() + " run.name=run run.threads=1 train.steps=3 train.batch_size=8" +
      " train.log_every=1 train.eval_every=0 model.channels=[4,8] model.hidden=16 'eval={n: 16, batch_size: 16}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  register_builtins();
  train::TeacherOptions options;
  options.run = run;
  train::LoadedClassifier loaded = train::load_classifier(options);  // eval mode: batch norm's running stats
  const torch::Tensor x = fixed_normal({12, 1, 28, 28}, 13);
  io::write_npy(dir.file("x.npy"), x);
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = loaded.network->forward(x).contiguous();
  }
  io::write_npy(dir.file("out_logits.npy"), logits);
  expect_agreement({{"logits", logits}}, python_round_trip(dir, run, true, false), "cnn classifier");
}

}  // namespace
}  // namespace flowlab
