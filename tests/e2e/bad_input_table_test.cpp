// Bad input, through the real binary: each row is an input, the exit status it must give (2: a
// config or usage error, 1: a runtime error such as a missing or corrupt file) and words its
// message must hold (the key path, the file, a suggestion). None may crash, hang or abort.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::CommandResult;
using testing::flowlab;
using testing::run_command;
using testing::TempDir;

struct BadInput {
  std::string name;
  std::string command;  // {F} is the flowlab binary, {D} the test's folder, {M} the moons config
  int exit_code;
  std::vector<std::string> words;
};

std::string expand(std::string text, const TempDir& dir) {
  const std::vector<std::pair<std::string, std::string>> keys{
      {"{F}", flowlab()}, {"{D}", dir.path()}, {"{M}", testing::source_dir() + "/configs/toy/moons.yaml"}};
  for (const auto& [key, value] : keys) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

void write(const std::string& file, const std::string& bytes) { std::ofstream(file, std::ios::binary) << bytes; }

TEST(BadInputTable, EveryRowFailsClearly) {
  TempDir dir;
  // Files the rows read: configs, arrays, images, a trained run.
  write(dir.file("syntax.yaml"), "run: {name: x\ntrain: [1, 2\n");
  write(dir.file("list.yaml"), "- 1\n- 2\n");
  write(dir.file("garbage.npy"), "this is not an npy file at all, just text");
  write(dir.file("truncated.npy"), std::string("\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (100, 2), }", 71) + std::string(60, ' ') + "\n" + std::string(40, '\0'));
  write(dir.file("not_a_png.png"), "PNG? no.");
  std::filesystem::create_directories(dir.file("images/cat"));
  write(dir.file("images/cat/broken.png"), "\x89PNG\r\n\x1a\n but then nothing");
  std::filesystem::create_directories(dir.file("empty_images"));
  std::filesystem::create_directories(dir.file("idx"));
  write(dir.file("idx/train-images-idx3-ubyte.gz"), "not gzip");
  write(dir.file("idx/train-labels-idx1-ubyte.gz"), "not gzip");
  testing::run_python("import numpy as np\nnp.save('" + dir.file("ints.npy") + "', np.arange(10, dtype=np.int8))\n" +
                      "np.save('" + dir.file("points3.npy") + "', np.zeros((50, 3), dtype=np.float32))\n" +
                      "np.save('" + dir.file("nan.npy") + "', np.full((50, 2), np.nan, dtype=np.float32))\n");
  const std::string train = "{F} train {M} --set run.dir={D} --set run.threads=1 --set train.steps=3 --set train.eval_every=0 ";
  ASSERT_EQ(run_command(expand(train + "--set run.name=good", dir)).exit_code, 0);
  const std::string good = "{D}/good";

  const std::vector<BadInput> table{
      // Config files and overrides.
      {"missing config", "{F} train {D}/nope.yaml", 2, {"nope.yaml", "No such file"}},
      {"yaml syntax", "{F} train {D}/syntax.yaml", 2, {"syntax.yaml:2:", "invalid YAML"}},
      {"config not a map", "{F} train {D}/list.yaml", 2, {"list.yaml"}},
      {"unknown top-level key", train + "--set trian.steps=3", 2, {"trian", "train"}},
      {"unknown nested key", train + "--set train.stepz=3", 2, {"train.stepz", "steps"}},
      {"wrong type", train + "--set train.steps=many", 2, {"train.steps", "many"}},
      {"out of range", train + "--set train.batch_size=0", 2, {"train.batch_size"}},
      {"negative", train + "--set train.grad_clip=-1", 2, {"train.grad_clip"}},
      {"unknown component", train + "--set data.type=moonz", 2, {"data.type", "moonz", "known: ", "toy2d"}},
      {"misspelt component", train + "--set sample.solver=heum", 2, {"heum", "did you mean 'heun'"}},
      {"unknown solver", train + "--set sample.solver=rk5", 2, {"rk5", "rk4"}},
      {"unknown choice", train + "--set train.precision=fp8", 2, {"train.precision", "bf16"}},
      {"bad device", train + "--set run.device=tpu", 2, {"run.device", "tpu"}},
      {"override without =", train + "--set train.steps", 2, {"train.steps"}},
      {"bad timeout", train + "--set train.data_parallel.timeout_s=0", 2, {"train.data_parallel.timeout_s"}},
      // Command-line flags.
      {"no command", "{F}", 2, {"subcommand is required"}},
      {"mistyped command", "{F} trian {M}", 2, {"unknown command 'trian'", "did you mean 'train'", "known: "}},
      {"unknown command", "{F} fly {M}", 2, {"unknown command 'fly'", "known: train, sample"}},
      {"unknown flag", train + "--stepz 3", 2, {"--stepz"}},
      {"train without config", "{F} train", 2, {"config"}},
      {"sample: not a run", "{F} sample {D}/nowhere", 1, {"not a flowlab run directory"}},
      {"sample: grid size 0", "{F} sample " + good + " --grid-size 0", 2, {"--grid-size"}},
      {"sample: missing checkpoint", "{F} sample " + good + " --checkpoint {D}/missing.pt", 1, {"missing.pt", "does not exist"}},
      {"eval: unknown metric", "{F} eval " + good + " --metrics energy_distanse", 2, {"energy_distanse", "energy_distance"}},
      {"eval: --data of another shape", "{F} eval " + good + " --metrics nll --n 10 --data {D}/points3.npy", 1, {"points3.npy", "[n] + [2]"}},
      // Run directories.
      {"train over a trained run", train + "--set run.name=good", 2, {"already holds checkpoints", "--resume"}},
      {"resume without checkpoints", train + "--set run.name=fresh --resume", 2, {"no checkpoint"}},
      // .npy files.
      {"npy missing", train + "--set run.name=n1 --set 'data={type: npy, path: {D}/absent.npy}'", 2,
       {"data.path", "absent.npy", "No such file"}},
      {"npy garbage", train + "--set run.name=n2 --set 'data={type: npy, path: {D}/garbage.npy}'", 1, {"garbage.npy"}},
      {"npy truncated", train + "--set run.name=n3 --set 'data={type: npy, path: {D}/truncated.npy}'", 1, {"truncated.npy"}},
      {"npy of NaN", train + "--set run.name=n4 --set 'data={type: npy, path: {D}/nan.npy}'", 1,
       {"nan.npy", "NaN or infinite"}},
      {"npy labels of another length", train + "--set run.name=n5 --set 'data={type: npy, path: {D}/points3.npy, labels: "
       "{D}/ints.npy}'", 1, {"points3.npy with labels", "ints.npy", "labels must be [N] = [50]"}},
      // IDX and image files.
      {"idx files missing", train + "--set run.name=i1 --set 'data={type: fashion_mnist, dir: {D}/idx}'", 2,
       {"data.dir", "t10k-images-idx3-ubyte.gz", "dataset-fashion-mnist"}},
      {"idx folder missing", train + "--set run.name=i2 --set 'data={type: fashion_mnist, dir: {D}/no_idx}'", 2, {"no_idx"}},
      {"image folder empty", train + "--set run.name=i3 --set 'data={type: image_folder, path: {D}/empty_images, size: 8}'",
       2, {"data.path", "holds no image files"}},
      {"image folder broken png", train + "--set run.name=i4 --set 'data={type: image_folder, path: {D}/images, size: 8}'", 1, {"broken.png"}},
      // The launcher's environment.
      {"WORLD_SIZE not a number", "env WORLD_SIZE=two RANK=0 " + train + "--set run.name=e1", 2, {"WORLD_SIZE=two"}},
      {"RANK without WORLD_SIZE", "env RANK=1 " + train + "--set run.name=e2", 2, {"RANK", "WORLD_SIZE"}},
  };
  EXPECT_GE(table.size(), 30u);
  for (const BadInput& row : table) {
    const CommandResult r = run_command("timeout 120 " + expand(row.command, dir));
    EXPECT_EQ(r.exit_code, row.exit_code) << row.name << "\n" << r.output;
    for (const std::string& word : row.words) {
      EXPECT_NE(r.output.find(expand(word, dir)), std::string::npos) << row.name << ": no '" << word << "' in\n" << r.output;
    }
    for (const char* crash : {"terminate called", "Segmentation", "Aborted", "core dumped"}) {
      EXPECT_EQ(r.output.find(crash), std::string::npos) << row.name << "\n" << r.output;
    }
  }
}

}  // namespace
}  // namespace flowlab
