// Opens a trained run through the installed library and samples from it.
#include <cstdio>
#include <flowlab/builtins.h>
#include <flowlab/train/evaluation.h>
#include <flowlab/train/run.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer RUN_DIR\n");
    return 2;
  }
  flowlab::register_builtins();
  flowlab::train::LoadedRun run = flowlab::train::load_run(argv[1]);
  flowlab::train::Experiment& exp = *run.experiment;
  const auto samples = flowlab::train::generate_samples(exp, flowlab::train::sampling_model(exp), 100, 1);
  std::printf("step %lld samples %lld x %lld mean %.4f\n", static_cast<long long>(run.step),
              static_cast<long long>(samples.x.size(0)), static_cast<long long>(samples.x.size(1)),
              samples.x.mean().item<double>());
  return 0;
}
