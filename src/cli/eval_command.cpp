#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "commands.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/train/evaluation.h"
#include "run_loading.h"

namespace flowlab::cli {

int eval_command(const EvalArgs& args) {
  std::vector<std::string> overrides;
  if (args.n) overrides.push_back("eval.n=" + std::to_string(*args.n));
  LoadedRun run = load_run(args.run_dir, overrides, args.checkpoint);
  train::Experiment& exp = *run.experiment;
  auto solver = solvers::make_solver(exp.sample.solver, exp.sample.solver_options);
  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 2));
  const train::GeneratedSamples samples =
      train::generate_samples(exp, train::sampling_network(exp), *solver, exp.eval.n, seed);
  const auto scores = train::score_samples(exp, samples.x, seed + 1);

  std::ostringstream json;
  json.precision(9);
  json << "{\"run\": \"" << exp.run_dir() << "\", \"checkpoint\": \"" << run.checkpoint << "\", \"step\": " << run.step
       << ", \"n\": " << exp.eval.n << ", \"solver\": \"" << exp.sample.solver << "\", \"nfe\": " << samples.nfe;
  std::printf("%-20s %s\n", "metric", "value");
  for (const auto& [name, value] : scores) {
    std::printf("%-20s %.6g\n", name.c_str(), value);
    json << ", \"" << name << "\": " << value;
  }
  json << "}\n";
  if (!args.json.empty()) io::write_text_atomically(args.json, json.str());
  std::fflush(stdout);
  return 0;
}

}  // namespace flowlab::cli
