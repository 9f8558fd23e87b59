#include "flowlab/train/diagnosis.h"

#include <torch/torch.h>

#include <string>

#include "flowlab/core/error.h"
#include "flowlab/data/condition.h"
#include "flowlab/data/dataset.h"
#include "flowlab/paths/fields.h"
#include "flowlab/solvers/solver.h"
#include "flowlab/train/evaluation.h"

namespace flowlab::train {

diagnostics::ReportInputs diagnosis_inputs(Experiment& exp, nn::Model& model, uint64_t seed) {
  const auto& kinds = model.predictions();
  // A conditional model is diagnosed for one class (or its unconditional field), with guidance;
  // the class goes with every batch the diagnostics evaluate, whatever its size.
  paths::ModelFn model_fn = model_function(model);
  int64_t label = data::kNullClass;
  if (model.num_classes() > 0) {
    const SampleOptions& s = exp.sample;
    if (s.class_mode == "none") {
      label = data::kNullClass;
    } else if (s.classes.size() == 1) {
      label = s.classes[0];
    } else {
      throw ConfigError("diagnose: the model is class-conditional; give the one class whose field is diagnosed "
                        "(--class K) or --classes none for the unconditional field");
    }
    model_fn = [guided = sampling_function(exp, model), label](const torch::Tensor& x, const torch::Tensor& t,
                                                               const data::Condition&) {
      return guided(x, t, data::Condition{torch::full({x.size(0)}, label,
                                                      torch::TensorOptions().dtype(torch::kLong).device(x.device()))});
    };
  }
  diagnostics::ReportInputs in;
  in.velocity = paths::velocity_field(model_fn, kinds, *exp.path);
  if (exp.path->why_no_score(kinds).empty()) in.score = paths::score_field(model_fn, kinds, *exp.path);
  in.sample_shape = exp.data->sample_shape();
  in.device = exp.device;
  // Data points of class `label` for a conditional model diagnosed for one class; of every class otherwise.
  in.data_points = [&exp, label](int64_t n, at::Generator& gen) {
    if (label == data::kNullClass) return exp.data->sample(n, gen).x;
    return data::sample_of_classes(*exp.data, torch::full({n}, label, torch::kLong), gen);
  };
  in.source_points = [&exp](int64_t n, at::Generator& gen) { return exp.source->sample(n, gen).x; };
  // x_t between source draws (x1 itself on a mirror path) and data points, at times t.
  in.path_points = [&exp, data_points = in.data_points](const torch::Tensor& t, at::Generator& gen) {
    const int64_t n = t.size(0);
    const torch::Tensor x1 = data_points(n, gen).to(exp.device);
    const torch::Tensor x0 = exp.path->mirror() ? x1 : exp.source->sample(n, gen).x.to(exp.device);
    const torch::Tensor z = torch::randn(x1.sizes(), gen).to(exp.device);
    return exp.path->sample(x0, x1, t.to(x1.options()), z).x_t;
  };
  in.signal_and_noise = [&exp](double t) {
    const torch::Tensor time = torch::full({1}, t, torch::kFloat64);
    return std::make_pair(exp.path->at(time).beta.item<double>(), paths::noise_level(*exp.path, time).item<double>());
  };
  in.compare_samples = [&exp, &model, seed](const solvers::Field& conservative) {
    const uint64_t sample_seed = seed + 1;
    const GeneratedSamples learned = generate_samples(exp, model, exp.eval.n, sample_seed);
    auto source_gen = data::make_generator(sample_seed);
    // The sampler's start: the source, or the data itself on a mirror path (x0 = x1).
    const torch::Tensor x0 = (exp.path->mirror() ? exp.data->sample(exp.eval.n, source_gen).x
                                                 : exp.source->sample(exp.eval.n, source_gen).x)
                                 .to(exp.device);
    const auto solver = solvers::make_solver(exp.sample.solver, exp.sample.solver_options);
    GeneratedSamples grad_phi;
    {
      torch::NoGradGuard no_grad;
      grad_phi.x = solver->integrate(conservative, x0, 0.0, 1.0).x.cpu();
    }
    grad_phi.labels = learned.labels;  // compared with data of the same classes
    return std::make_pair(score_samples(exp, learned, sample_seed + 1), score_samples(exp, grad_phi, sample_seed + 1));
  };
  return in;
}

}  // namespace flowlab::train
