#include "flowlab/train/evaluation.h"

#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <optional>
#include <limits>

#include "flowlab/core/error.h"
#include "flowlab/distributed/process_group.h"
#include "flowlab/solvers/graphed_solve.h"
#include "flowlab/data/dataset.h"
#include "flowlab/data/source.h"
#include "flowlab/solvers/philox.h"

namespace flowlab::train {
namespace {

// Independent streams (source draws, Brownian increments) from one sampling seed.
uint64_t stream_seed(uint64_t seed, uint64_t stream) { return solvers::splitmix64(seed ^ (stream << 56)); }

bool gaussian_source(const Experiment& exp) {
  return !exp.path->mirror() && dynamic_cast<const data::GaussianSource*>(exp.source.get()) != nullptr;
}

// x0 of the samples first .. first + count - 1. Gaussian draws are per sample (NoiseStream), so a
// sample's x0 does not depend on the chunking; datasets are drawn in order from `gen`.
torch::Tensor draw_source(Experiment& exp, int64_t first, int64_t count, uint64_t seed, at::Generator& gen) {
  if (gaussian_source(exp)) {
    return solvers::NoiseStream(stream_seed(seed, 1), first, count, exp.source->sample_shape(), torch::kFloat32,
                                exp.device)
        .draw(0);
  }
  const data::Dataset& from = exp.path->mirror() ? *exp.data : *exp.source;  // the mirror starts from data
  return from.sample(count, gen).x.to(exp.device);
}

// From the SDE's end time t < 1 to t = 1 in one step: the data estimate E[x1 | x] on Gaussian-source
// paths, an Euler step of the velocity otherwise.
torch::Tensor final_denoising_step(Experiment& exp, const paths::ModelFn& model, const torch::Tensor& x, double t,
                                   const data::Condition& condition) {
  const torch::Tensor times = torch::full({x.size(0)}, t, x.options());
  const paths::Predictions outputs = model(x, times, condition);
  if (exp.path->gaussian_source()) return exp.path->to_data(outputs[0].first, outputs[0].second, x, times);
  return x + (1.0 - t) * exp.path->velocity(outputs, x, times);
}

// The condition of n data points: their labels for a conditional model (the null class when they
// have none), nothing for an unconditional one.
data::Condition point_condition(const nn::Model& model, const torch::Tensor& labels, int64_t n,
                                const torch::Device& device) {
  if (model.num_classes() == 0) return {};
  if (!labels.defined()) return data::null_condition(n, device);
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == n, "labels [", n, "] expected, got ", labels.sizes());
  return data::Condition{labels.to(device, torch::kLong)};
}

}  // namespace

std::map<std::string, double> evaluate_flow_task(Experiment& exp, uint64_t seed) {
  nn::Model& model = sampling_model(exp);
  const GeneratedSamples samples = generate_samples(exp, model, exp.eval.n, seed);
  return evaluate(exp, model, samples, seed + 1);
}

nn::Model& sampling_model(Experiment& exp) { return exp.sample.use_ema ? *exp.ema_model : *exp.model; }

paths::ModelFn model_function(nn::Model& model) {
  return [&model](const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
    return model.forward(x, t, condition);
  };
}

paths::ModelFn sampling_function(const Experiment& exp, nn::Model& model) {
  paths::ModelFn fn = model_function(model);
  if (exp.sample.precision != Precision::fp32 || exp.device.is_cuda()) {
    // The network at sample.precision; its outputs back in float32 for the solver.
    fn = [fn, device = exp.device, precision = exp.sample.precision](
             const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
      paths::Predictions out;
      {
        const PrecisionScope scope(device, precision);
        out = fn(x, t, condition);
      }
      for (auto& prediction : out) prediction.second = prediction.second.to(torch::kFloat);
      return out;
    };
  }
  if (model.num_classes() == 0) return fn;
  return paths::guided(fn, exp.sample.guidance);
}

torch::Tensor sample_labels(const Experiment& exp, int64_t n) {
  const int64_t classes = exp.model->num_classes();
  if (classes == 0) return {};
  const SampleOptions& o = exp.sample;
  if (o.class_mode == "none") return torch::full({n}, data::kNullClass, torch::kLong);
  const torch::Tensor index = torch::arange(n, torch::kLong);
  if (o.classes.empty()) return torch::remainder(index, classes);  // all: an equal share of each class
  const torch::Tensor listed = torch::tensor(o.classes, torch::kLong);
  return listed.index_select(0, torch::remainder(index, static_cast<int64_t>(o.classes.size())));
}

GeneratedSamples generate_samples(Experiment& exp, nn::Model& model, int64_t n, uint64_t seed,
                                  distributed::ProcessGroup* group) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  auto gen = data::make_generator(seed);
  const SampleOptions& o = exp.sample;
  const paths::Path& path = *exp.path;
  std::unique_ptr<solvers::Solver> ode;
  std::unique_ptr<solvers::SdeSolver> sde;
  std::function<solvers::Field(const data::Condition&)> field;  // the field of one chunk's classes
  solvers::Diffusion diffusion;
  const paths::ModelFn model_fn = sampling_function(exp, model);
  if (o.sde.enabled) {
    const solvers::EpsSchedule eps = solvers::make_eps_schedule(
        o.sde.eps, [&path](const torch::Tensor& t) { return paths::noise_level(path, t); });
    field = [&, eps](const data::Condition& c) {
      return paths::sde_drift_field(model_fn, model.predictions(), path, eps, c);
    };
    diffusion = solvers::diffusion_from_eps(eps);
    sde = solvers::make_sde_solver(o.sde.solver, o.sde.solver_options);
  } else {
    field = [&](const data::Condition& c) { return paths::velocity_field(model_fn, model.predictions(), path, c); };
    ode = solvers::make_solver(o.solver, o.solver_options);
  }
  field(data::Condition{});  // fails early when the model's fields do not determine the field
  // One field for every batch (unconditional, checked with the config): its solve is captured
  // once per batch shape and replayed.
  std::optional<solvers::GraphedSolve> graphed;
  if (ode && o.cuda_graph && exp.device.is_cuda()) graphed.emplace(*ode, field(data::Condition{}), 0.0, 1.0);
  GeneratedSamples out;
  out.labels = sample_labels(exp, n);
  const data::Condition all{out.labels.defined() ? out.labels.to(exp.device) : torch::Tensor()};
  std::vector<torch::Tensor> chunks;
  int64_t chunk = 0;
  for (int64_t done = 0; done < n; done += o.batch_size, ++chunk) {
    const int64_t count = std::min(o.batch_size, n - done);
    // Every chunk's source points are drawn (a dataset source draws them in order), and the
    // chunks of other processes left as zeros.
    const torch::Tensor x0 = draw_source(exp, done, count, seed, gen);
    if (group && chunk % group->size() != group->rank()) {
      chunks.push_back(torch::zeros_like(x0, torch::TensorOptions().device(torch::kCPU)));
      continue;
    }
    const data::Condition condition = all.slice(done, done + count);
    torch::Tensor x;
    if (sde) {
      solvers::NoiseStream noise = solvers::NoiseStream::for_state(stream_seed(seed, 2), done, x0);
      const solvers::Field chunk_field = field(condition);
      const solvers::SdeSolveResult r = sde->integrate(chunk_field, diffusion, x0, 0.0, o.sde.t_end, noise);
      x = r.x;
      out.nfe += r.nfe;
      if (o.sde.t_end < 1.0) {
        x = final_denoising_step(exp, model_fn, x, o.sde.t_end, condition);
        out.nfe += 1;
      }
    } else {
      // An adaptive solver evaluates the still-active rows: their labels go with them.
      const solvers::RowField rows_field = [&](const torch::Tensor& y, const torch::Tensor& t,
                                               const torch::Tensor& rows) {
        return field(condition.rows(rows))(y, t);
      };
      const solvers::SolveResult r = graphed ? graphed->integrate(x0) : ode->integrate_rows(rows_field, x0, 0.0, 1.0);
      x = r.x;
      out.nfe += r.nfe;
      out.rejected += r.rejected;
    }
    out.transport_cost += (x - x0).flatten(1).to(torch::kFloat64).pow(2).sum().item<double>();
    chunks.push_back(x.to(torch::kCPU));
  }
  out.x = torch::cat(chunks, 0);
  if (group) {
    // Each chunk is nonzero in one process only: the sums are the samples, on every process.
    torch::Tensor x = out.x.to(exp.device);
    group->all_reduce(x)->wait();
    out.x = x.cpu();
    torch::Tensor counts = torch::tensor({static_cast<double>(out.nfe), static_cast<double>(out.rejected),
                                          out.transport_cost},
                                         torch::TensorOptions().dtype(torch::kFloat64).device(exp.device));
    group->all_reduce(counts)->wait();
    counts = counts.cpu();
    out.nfe = static_cast<int64_t>(counts[0].item<double>());
    out.rejected = static_cast<int64_t>(counts[1].item<double>());
    out.transport_cost = counts[2].item<double>();
  }
  out.transport_cost /= static_cast<double>(std::max<int64_t>(n, 1));
  model.train(was_training);
  return out;
}

namespace {

// Points of `from` to compare n samples (of `labels`, when class-conditional) with: a finite
// held-out set's first points (of the same classes), without repeats while it has enough; else
// fresh draws.
torch::Tensor reference_points(const data::Dataset& from, int64_t n, const torch::Tensor& labels, at::Generator& gen) {
  if (from.size() > 0) {
    return labels.defined() ? data::rows_of_classes(from, labels) : from.rows(0, std::min(n, from.size())).x;
  }
  return labels.defined() ? data::sample_of_classes(from, labels, gen) : from.sample(n, gen).x;
}

// f over x [n, ...] in chunks of batch_size rows on `device` (float32), the results joined on the CPU:
// memory bounded by one chunk whatever n.
torch::Tensor in_chunks(const torch::Tensor& x, int64_t batch_size, const torch::Device& device,
                        const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  std::vector<torch::Tensor> chunks;
  for (int64_t done = 0; done < x.size(0); done += batch_size) {
    const int64_t count = std::min(batch_size, x.size(0) - done);
    chunks.push_back(f(x.slice(0, done, done + count).to(device, torch::kFloat32)).cpu());
  }
  return torch::cat(chunks);
}

}  // namespace

std::map<std::string, double> score_samples(Experiment& exp, const GeneratedSamples& samples, uint64_t seed) {
  std::map<std::string, double> scores;
  if (exp.metrics.empty() && !exp.eval.wants_class_accuracy()) return scores;
  torch::NoGradGuard no_grad;
  auto gen = data::make_generator(seed);
  nn::Classifier* features = exp.feature_network.get();
  if (features) features->eval();
  if (exp.eval.wants_class_accuracy()) {
    // Does a sample drawn for class k look like k to the feature network?
    const torch::Tensor& drawn_for = samples.labels;  // kNullClass (< 0) for unconditional draws
    const torch::Tensor conditional = drawn_for.defined() ? drawn_for >= 0 : torch::Tensor();
    if (!conditional.defined() || !conditional.any().item<bool>()) {
      scores["class_accuracy"] = std::numeric_limits<double>::quiet_NaN();
    } else {
      const torch::Tensor predicted =
          in_chunks(samples.x.index({conditional}), exp.sample.batch_size, exp.device,
                    [&](const torch::Tensor& x) { return features->forward(x).argmax(1); });
      const torch::Tensor hits = predicted.eq(drawn_for.index({conditional}));
      scores["class_accuracy"] = hits.to(torch::kFloat64).mean().item<double>();
    }
  }
  if (exp.metrics.empty()) return scores;
  const data::Dataset& from = exp.held_out ? *exp.held_out : *exp.data;
  torch::Tensor reference = reference_points(from, samples.x.size(0), samples.labels, gen);
  torch::Tensor model = samples.x;
  if (features) {
    const auto penultimate = [&](const torch::Tensor& x) { return features->features(x); };
    reference = in_chunks(reference, exp.sample.batch_size, exp.device, penultimate);
    model = in_chunks(model, exp.sample.batch_size, exp.device, penultimate);
  }
  // Metrics compute in their inputs' dtype: float64, whatever the model's.
  reference = reference.to(exp.device, torch::kFloat64).flatten(1);
  model = model.to(exp.device, torch::kFloat64).flatten(1);
  for (std::size_t i = 0; i < exp.metrics.size(); ++i) {
    scores[exp.metric_names[i]] = exp.metrics[i]->compute(model, reference, gen);
  }
  return scores;
}

NllEstimate estimate_nll(Experiment& exp, nn::Model& model, const torch::Tensor& data, uint64_t seed,
                         const torch::Tensor& labels) {
  TORCH_CHECK(data.dim() >= 2 && data.size(0) >= 2, "nll: need at least 2 data points, got ", data.sizes());
  const bool was_training = model.is_training();
  model.eval();
  solvers::LogDensity source_log_prob;
  if (gaussian_source(exp)) {
    source_log_prob = solvers::standard_normal_log_prob;
  } else if (const auto* density = dynamic_cast<const data::AnalyticDensity*>(exp.source.get());
             density && !exp.path->mirror()) {
    source_log_prob = [density](const torch::Tensor& x) { return density->log_prob(x.flatten(1)).to(torch::kFloat64); };
  } else {
    throw Error("nll needs a source with a known density (gaussian, or a gaussian_mixture dataset)");
  }
  const paths::ConditionalField field =
      paths::conditional_velocity_field(sampling_function(exp, model), model.predictions(), *exp.path);
  const data::Condition all = point_condition(model, labels, data.size(0), exp.device);
  auto gen = data::make_generator(seed);
  NllEstimate out;
  std::vector<torch::Tensor> log_probs;
  for (int64_t done = 0; done < data.size(0); done += exp.sample.batch_size) {
    const int64_t count = std::min(exp.sample.batch_size, data.size(0) - done);
    const torch::Tensor x = data.slice(0, done, done + count).to(exp.device, torch::kFloat32);
    const data::Condition condition = all.slice(done, done + count);
    // An adaptive solver evaluates the still-active rows: their labels go with them.
    const solvers::RowField chunk_field = [&field, &condition](const torch::Tensor& y, const torch::Tensor& t,
                                                               const torch::Tensor& rows) {
      return field(y, t, condition.rows(rows));
    };
    const solvers::LogLikelihood r =
        solvers::log_likelihood(chunk_field, source_log_prob, x, exp.eval.likelihood, gen);
    log_probs.push_back(r.log_prob.to(torch::kCPU));
    out.nfe += r.nfe;
  }
  model.train(was_training);
  const torch::Tensor nll = -torch::cat(log_probs);
  const int64_t dim = data[0].numel();
  out.nll = nll.mean().item<double>();
  out.nll_se = nll.std().item<double>() / std::sqrt(static_cast<double>(nll.size(0)));
  out.bpd = solvers::bits_per_dim(out.nll, dim);
  out.bpd_se = solvers::bits_per_dim(out.nll_se, dim);
  return out;
}

namespace {

// The points' own labels when the model samples by class; the null class (their marginal density)
// when sample.classes is none.
torch::Tensor evaluation_labels(const Experiment& exp, const data::Batch& points) {
  if (exp.model->num_classes() == 0 || exp.sample.class_mode == "none") return {};
  return points.label;
}

}  // namespace

std::map<std::string, double> evaluate(Experiment& exp, nn::Model& model, const GeneratedSamples& samples,
                                       uint64_t seed, const torch::Tensor& nll_data) {
  std::map<std::string, double> scores = score_samples(exp, samples, seed);
  if (exp.eval.wants_nll()) {
    auto gen = data::make_generator(seed + 1);
    data::Batch points;
    if (nll_data.defined()) {
      points.x = nll_data;
    } else if (exp.held_out && exp.held_out->size() > 0) {
      points = exp.held_out->rows(0, std::min(exp.eval.n, exp.held_out->size()));
    } else {
      points = (exp.held_out ? *exp.held_out : *exp.data).sample(exp.eval.n, gen);
    }
    // Quantised data has no density: the density of x + U[0, step)^d bounds its bits (Theis et al. 2016).
    const double step = exp.eval.dequantize ? exp.data->quantisation_step() : 0.0;
    if (step > 0) points.x = points.x + step * torch::rand(points.x.sizes(), gen, torch::kFloat32);
    const NllEstimate e = estimate_nll(exp, model, points.x, seed + 2, evaluation_labels(exp, points));
    scores["nll"] = e.nll;
    scores["nll_se"] = e.nll_se;
    scores["bpd"] = e.bpd + (step > 0 ? -std::log2(step) : 0.0);
    scores["bpd_se"] = e.bpd_se;
    scores["nll_nfe"] = static_cast<double>(e.nfe);
  }
  if (exp.eval.wants_kinetic_energy()) {
    auto gen = data::make_generator(seed + 3);
    const data::Batch points = exp.data->sample(exp.eval.n, gen);
    const paths::EnergyEstimate e = estimate_kinetic_energy(exp, model, points.x, seed + 4, evaluation_labels(exp, points));
    scores["kinetic_energy"] = e.value;
    scores["kinetic_energy_se"] = e.se;
  }
  return scores;
}

paths::EnergyEstimate estimate_kinetic_energy(Experiment& exp, nn::Model& model, const torch::Tensor& data,
                                              uint64_t seed, const torch::Tensor& labels) {
  const bool was_training = model.is_training();
  model.eval();
  const paths::ConditionalField field =
      paths::conditional_velocity_field(sampling_function(exp, model), model.predictions(), *exp.path);
  auto gen = data::make_generator(seed);
  const paths::EnergyEstimate e =
      paths::field_kinetic_energy(field, point_condition(model, labels, data.size(0), exp.device), *exp.path,
                                  data.to(exp.device, torch::kFloat32), gen, exp.sample.batch_size);
  model.train(was_training);
  return e;
}

}  // namespace flowlab::train
