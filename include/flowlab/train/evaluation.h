#pragma once
// Sampling a trained model (ODE or SDE), scoring its samples against fresh data,
// and the negative log-likelihood of data.
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "flowlab/paths/fields.h"
#include "flowlab/paths/kinetic_energy.h"
#include "flowlab/train/experiment.h"

namespace flowlab::distributed {
class ProcessGroup;
}

namespace flowlab::train {

struct GeneratedSamples {
  torch::Tensor x;  ///< [n, ...] on the CPU
  /// int64 [n] on the CPU: the class each sample was drawn for (kNullClass: unconditional);
  /// undefined for an unconditional model.
  torch::Tensor labels;
  int64_t nfe = 0;  ///< batched field evaluations, summed over chunks
  int64_t rejected = 0;
  /// mean |x1 - x0|^2 over the samples: the transport cost of the sampler's map
  /// (minimal, W2^2, for an optimal transport map), float64.
  double transport_cost = 0.0;
};

/// Draws n samples from t = 0 to 1 in chunks of `sample.batch_size`: the probability-flow ODE with
/// sample.solver, or the SDE of sample.sde when it is enabled. Sample i depends on (seed, i) only,
/// never on the chunking, for Gaussian sources (its x0 and its Brownian increments are drawn per
/// sample); dataset sources are drawn in order from a generator seeded with `seed`. A
/// class-conditional model draws sample i for class sample_labels(exp, n)[i], with
/// sample.guidance. With a `group` of processes, chunk k is integrated by process k mod size and
/// every process returns all n samples (summed over the processes): the same samples as one
/// process draws, bit for bit, in a fraction of the time.
GeneratedSamples generate_samples(Experiment& exp, nn::Model& model, int64_t n, uint64_t seed,
                                  distributed::ProcessGroup* group = nullptr);

/// The classes of n samples from sample.class / sample.classes (class[i mod m], i mod K, or the
/// null class); undefined for an unconditional model. Depends on i only, never on n's chunking.
torch::Tensor sample_labels(const Experiment& exp, int64_t n);

/// The experiment's sample metrics between `samples` and as many fresh data points drawn with a
/// generator seeded with `seed`; for class-conditional samples the data points have the samples'
/// classes (one of class labels[i] for sample i), so each metric compares like with like.
std::map<std::string, double> score_samples(Experiment& exp, const GeneratedSamples& samples, uint64_t seed);

/// Negative log-likelihood of data points under the model's probability-flow ODE.
struct NllEstimate {
  double nll = 0.0;     ///< mean over the points of -log rho1(x), nats
  double nll_se = 0.0;  ///< its standard error over the points (includes Hutchinson noise)
  double bpd = 0.0;     ///< nll / (d ln 2)
  double bpd_se = 0.0;
  int64_t nfe = 0;
};
/// `data` [n, ...] (any device) in chunks of `sample.batch_size`, with eval.likelihood's options;
/// Hutchinson probes come from a generator seeded with `seed`. A class-conditional model gives
/// -log p(x | y) for the points' `labels` (with sample.guidance), or the unconditional density
/// when `labels` is undefined.
NllEstimate estimate_nll(Experiment& exp, nn::Model& model, const torch::Tensor& data, uint64_t seed,
                         const torch::Tensor& labels = {});

/// The model's kinetic energy (1/d) int_0^{1 - 1e-5} E|u_t(x_t)|^2 dt, x_t drawn from the path between
/// N(0, I) and `data` [n, ...] (one stratified time per point; noise seeded with `seed`); labels as
/// for estimate_nll.
paths::EnergyEstimate estimate_kinetic_energy(Experiment& exp, nn::Model& model, const torch::Tensor& data,
                                              uint64_t seed, const torch::Tensor& labels = {});

/// Sample metrics, and nll and kinetic_energy on eval.n fresh data points when eval.metrics lists
/// them (nll on `nll_data` instead when it is given): what training evaluations log and
/// `flowlab eval` prints, from the same seeds.
std::map<std::string, double> evaluate(Experiment& exp, nn::Model& model, const GeneratedSamples& samples,
                                       uint64_t seed, const torch::Tensor& nll_data = {});

/// A flow task's evaluation: eval.n samples of the sampling model (seeded with `seed`), scored by
/// evaluate() with seed + 1. flow_matching, monge_map and onestep_distill share it.
std::map<std::string, double> evaluate_flow_task(Experiment& exp, uint64_t seed);
/// The model used for sampling: the EMA copy unless sample.use_ema is false.
nn::Model& sampling_model(Experiment& exp);

/// The model as a function of (x, t, condition) for paths::velocity_field and friends.
paths::ModelFn model_function(nn::Model& model);
/// The function sampling uses: the model with sample.guidance applied (conditional models).
paths::ModelFn sampling_function(const Experiment& exp, nn::Model& model);

}  // namespace flowlab::train
