#pragma once
// Sampling a trained network and scoring its samples against fresh data.
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "flowlab/train/experiment.h"

namespace flowlab::train {

struct GeneratedSamples {
  torch::Tensor x;  ///< [n, ...] on the CPU
  int64_t nfe = 0;  ///< batched field evaluations, summed over chunks
  int64_t rejected = 0;
};

/// Integrates source samples from t = 0 to 1 through the network's velocity, in chunks of
/// `sample.batch_size`. The source draws come from a generator seeded with `seed`.
GeneratedSamples generate_samples(Experiment& exp, nn::Network& network, const solvers::Solver& solver, int64_t n,
                                  uint64_t seed);

/// The experiment's eval metrics between `samples` and `samples.size(0)` fresh data points
/// drawn with a generator seeded with `seed`.
std::map<std::string, double> score_samples(Experiment& exp, const torch::Tensor& samples, uint64_t seed);

/// The network used for sampling: the EMA copy unless sample.use_ema is false.
nn::Network& sampling_network(Experiment& exp);

}  // namespace flowlab::train
