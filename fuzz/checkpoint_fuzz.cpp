// libFuzzer target: train::load_checkpoint on arbitrary bytes, into a small model with an EMA
// copy, an Adam optimizer and a generator (what a flow-matching run restores). The first byte
// chooses whether the rest is taken as is (bit 0 clear: the CRC-32 trailer check sees it) or
// given a correct trailer (bit 0 set), so that mutated archives reach LibTorch's reader too.
// FLOWLAB_FUZZ_WRITE_SEED=FILE fuzz_checkpoint writes a real checkpoint of these parts (format 3,
// with the control byte) to FILE and exits: the seed in fuzz/corpus/checkpoint/.
#include <torch/torch.h>
#include <zlib.h>

#include <cstdio>

#include "flowlab/train/checkpoint.h"
#include "fuzz_support.h"

namespace {

// What the target restores into; the same parts write the seed.
struct Parts {
  std::shared_ptr<torch::nn::LinearImpl> model = std::make_shared<torch::nn::LinearImpl>(2, 2);
  std::shared_ptr<torch::nn::LinearImpl> ema = std::make_shared<torch::nn::LinearImpl>(2, 2);
  torch::optim::Adam optimizer{model->parameters(), torch::optim::AdamOptions(1e-3)};
  at::Generator generator = at::detail::createCPUGenerator(0);
  flowlab::train::CheckpointParts parts() {
    flowlab::train::CheckpointParts p;
    p.modules.push_back({flowlab::train::kModelModule, model, ema});
    p.optimizers.emplace_back(flowlab::train::kMainOptimizer, &optimizer);
    p.generators.emplace_back(flowlab::train::kTrainingGenerator, &generator);
    return p;
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* seed = std::getenv("FLOWLAB_FUZZ_WRITE_SEED");
  if (!seed || !*seed) return 0;
  torch::manual_seed(0);
  Parts p;
  // One optimizer step, so the Adam state (step, moments) is in the file too.
  p.model->forward(torch::ones({1, 2})).sum().backward();
  p.optimizer.step();
  flowlab::train::CheckpointMeta meta;
  meta.step = 1;
  meta.config_yaml = "data: {type: toy2d, name: moons}\n";
  meta.task_state.emplace_back("path.knots", torch::linspace(0, 1, 3));
  const std::string file = flowlab::fuzz::scratch_dir() + "/seed.pt";
  flowlab::train::save_checkpoint(file, meta, p.parts());
  std::ifstream in(file, std::ios::binary);
  std::ofstream out(seed, std::ios::binary | std::ios::trunc);
  out.put(0);  // control byte: take the file as is
  out << in.rdbuf();
  std::exit(out ? 0 : 1);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flowlab;
  if (size < 1) return 0;
  static const std::string input = fuzz::scratch_dir() + "/step_000000001.pt";
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    const auto crc = crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
    char trailer[96];
    std::snprintf(trailer, sizeof(trailer), "\nflowlab-checkpoint crc32 %08lx bytes %zu\n",
                  static_cast<unsigned long>(crc), bytes.size());
    bytes += trailer;
  }
  fuzz::write_bytes(input, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());

  torch::manual_seed(0);
  Parts p;
  fuzz::expect_clean([&] { train::load_checkpoint(input, p.parts()); }, /*allow_torch_errors=*/false);
  return 0;
}
