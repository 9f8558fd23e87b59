#include "flowlab/train/evaluation.h"

#include <torch/torch.h>

#include "flowlab/data/dataset.h"
#include "flowlab/paths/fields.h"

namespace flowlab::train {

nn::Network& sampling_network(Experiment& exp) { return exp.sample.use_ema ? *exp.ema_network : *exp.network; }

GeneratedSamples generate_samples(Experiment& exp, nn::Network& network, const solvers::Solver& solver, int64_t n,
                                  uint64_t seed) {
  torch::NoGradGuard no_grad;
  const bool was_training = network.is_training();
  network.eval();
  auto gen = data::make_generator(seed);
  const solvers::Field field = paths::velocity_field(
      [&network](const torch::Tensor& x, const torch::Tensor& t) { return network.forward(x, t); },
      network.prediction(), *exp.path);
  GeneratedSamples out;
  std::vector<torch::Tensor> chunks;
  for (int64_t done = 0; done < n; done += exp.sample.batch_size) {
    const int64_t count = std::min(exp.sample.batch_size, n - done);
    const torch::Tensor x0 = exp.source->sample(count, gen).x.to(exp.device);
    const solvers::SolveResult r = solver.integrate(field, x0, 0.0, 1.0);
    chunks.push_back(r.x.to(torch::kCPU));
    out.nfe += r.nfe;
    out.rejected += r.rejected;
  }
  out.x = torch::cat(chunks, 0);
  network.train(was_training);
  return out;
}

std::map<std::string, double> score_samples(Experiment& exp, const torch::Tensor& samples, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = data::make_generator(seed);
  const torch::Tensor reference = exp.data->sample(samples.size(0), gen).x.to(exp.device).flatten(1);
  const torch::Tensor model = samples.to(exp.device).flatten(1);
  std::map<std::string, double> scores;
  for (std::size_t i = 0; i < exp.metrics.size(); ++i) {
    scores[exp.eval.metrics[i]] = exp.metrics[i]->compute(model, reference, gen);
  }
  return scores;
}

}  // namespace flowlab::train
