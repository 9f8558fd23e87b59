#include "flowlab/train/onestep_distill_task.h"

#include <torch/torch.h>

#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/data/source.h"
#include "flowlab/paths/fields.h"
#include "flowlab/train/checkpoint.h"
#include "flowlab/train/ema.h"
#include "flowlab/train/evaluation.h"
#include "flowlab/train/experiment.h"

namespace flowlab::train {
namespace {

// The fake score's regression loss (the teacher's objective unless given).
constexpr const char* kFakeScoreObjective = "fake_score_objective";
// Sections a distilled run takes from its teacher, and those that must equal the teacher's.
const std::vector<std::string> kTeacherSections{"data", "source", "path", "model"};
const std::vector<std::string> kSameAsTeacher{"source", "path", "model"};

// The teacher run's config, read where the run's own config leaves something to it.
config::Node teacher_config(config::Node& teacher_node, const std::string& run) {
  const std::string file = run + "/config.yaml";
  try {
    return config::Node::load_file(file);
  } catch (const Error& e) {
    teacher_node.fail("run", std::string("cannot read the teacher's config: ") + e.what());
  }
}

// Fills the sections the teacher defines and the one-step sampler (the teacher's config is read
// only when something is missing: a distilled run's saved config has everything).
void complete_from_teacher(config::Node& config, config::Node& teacher_node, const std::string& run) {
  std::optional<config::Node> teacher;
  const auto from_teacher = [&]() -> config::Node& {
    if (!teacher) teacher = teacher_config(teacher_node, run);
    return *teacher;
  };
  for (const std::string& section : kTeacherSections) {
    if (!config.has(section)) config.apply_override(section + "=" + from_teacher().section(section).to_yaml());
  }
  if (!config.has(kFakeScoreObjective)) {
    config.apply_override(std::string(kFakeScoreObjective) + "=" + from_teacher().section("objective").to_yaml());
  }
  // A distilled run samples with one Euler step unless its config says otherwise (then an error).
  config::Node sample = config.section("sample");
  if (!sample.has("solver")) sample.apply_override("solver=euler");
  if (!sample.has("steps")) sample.apply_override("steps=1");
}

}  // namespace

FDistillOptions FDistillOptions::read(config::Node& node) {
  FDistillOptions o;
  const std::string type = node.require<std::string>("type", "f_distill");
  node.expect(type == "f_distill", "type", "f_distill (task onestep_distill)");
  std::vector<std::string> names = distill::divergence_names();
  o.divergence = distill::divergence_from_name(
      node.get_choice("divergence", "reverse_kl", names, "the f-divergence D_f(teacher || generator) minimised"));
  config::Node ratio = node.section("ratio_normalisation", "the density ratio divided by its mean per time bin");
  o.normalise_ratio = ratio.get<bool>("enabled", o.normalise_ratio, "divide r by the EMA of its time bin's mean");
  o.ratio_bins = ratio.get<int64_t>("bins", o.ratio_bins, "equal time bins over [t_min, t_max]");
  ratio.expect(o.ratio_bins >= 1, "bins", "an integer >= 1");
  o.ratio_ema = ratio.get<double>("ema", o.ratio_ema, "EMA decay of each bin's mean (0: this batch's)");
  ratio.expect(o.ratio_ema >= 0 && o.ratio_ema < 1, "ema", "a number in [0, 1)");
  o.gan_weight = node.get<double>("gan_weight", o.gan_weight, "weight of the generator's GAN term");
  node.expect(o.gan_weight >= 0, "gan_weight", "a number >= 0");
  o.r1_weight = node.get<double>("r1_weight", o.r1_weight, "weight of the discriminator's approximate R1 penalty");
  node.expect(o.r1_weight >= 0, "r1_weight", "a number >= 0");
  o.r1_noise = node.get<double>("r1_noise", o.r1_noise, "scale of the perturbation of the approximate R1 penalty");
  node.expect(o.r1_noise > 0, "r1_noise", "a number > 0");
  o.fake_score_updates =
      node.get<int64_t>("fake_score_updates", o.fake_score_updates, "fake score and discriminator steps per generator step");
  node.expect(o.fake_score_updates >= 1, "fake_score_updates", "an integer >= 1");
  o.t_min = node.get<double>("t_min", o.t_min, "smallest noising time (0 is noise, 1 data)");
  o.t_max = node.get<double>("t_max", o.t_max, "largest noising time");
  node.expect(0 <= o.t_min && o.t_min < o.t_max && o.t_max <= 1, "t_max", "0 <= t_min < t_max <= 1");
  o.karras_times = node.get_choice("time_sampler", "uniform", {"uniform", "karras"},
                                   "uniform in [t_min, t_max], or the reference code's Karras sigma grid") == "karras";
  o.sigma_min = node.get<double>("sigma_min", o.sigma_min, "karras: smallest sigma of the grid");
  o.sigma_max = node.get<double>("sigma_max", o.sigma_max, "karras: largest sigma of the grid");
  node.expect(0 < o.sigma_min && o.sigma_min < o.sigma_max, "sigma_max", "0 < sigma_min < sigma_max");
  o.rho = node.get<double>("rho", o.rho, "karras: the grid's exponent");
  node.expect(o.rho > 0, "rho", "a number > 0");
  return o;
}

OnestepDistillTask::OnestepDistillTask(Experiment& exp)
    : exp_(exp), normaliser_(1, 0.0, 0.0, 1.0) {
  config::Node& config = exp.config;
  config::Node teacher_node = config.section("teacher", "the trained flow run distilled: {run: DIR, guidance: W}");
  teacher_options_ = TeacherOptions::read(teacher_node);
  teacher_guidance_ = teacher_node.get<double>("guidance", 1.0, "classifier-free guidance of the teacher's field");
  complete_from_teacher(config, teacher_node, teacher_options_.run);
  exp.build_flow_components(kFakeScoreObjective);
  config::Node generator_node = config.section("generator", "the one-step generator G(z) = z + b(z, 0)");
  init_from_teacher_ = generator_node.get_choice("init", "teacher", {"teacher", "random"},
                                                 "start from the teacher's weights, or from a fresh network") ==
                       "teacher";
  config::Node objective_node = config.section("objective", "the distillation objective");
  options_ = FDistillOptions::read(objective_node);
  normaliser_ = distill::RatioNormaliser(options_.ratio_bins, options_.ratio_ema, options_.t_min, options_.t_max);

  if (!exp.path->gaussian_source()) {
    config.section("path").fail("type", "task onestep_distill noises generated samples with the path's Gaussian "
                                        "source: use a Gaussian-source path (cond_ot, trig, vp, ...)");
  }
  const SampleOptions& s = exp.sample;
  if (s.solver != "euler" || s.solver_options.steps != 1 || s.sde.enabled) {
    config.section("sample").fail("solver", "a one-step generator samples with {solver: euler, steps: 1}, no SDE");
  }
  if (s.guidance != 1.0) {
    config.section("sample").fail("guidance", "the generator has no guidance of its own; set teacher.guidance");
  }
  if (teacher_guidance_ != 1.0 && exp.model->num_classes() == 0) {
    teacher_node.fail("guidance", "guidance needs a class-conditional teacher");
  }

  // The teacher's architecture (its weights come when training starts), the fake score, and the
  // discriminator head on the teacher's features.
  const auto shape = exp.data->sample_shape();
  config::Node model_node = config.section("model");
  config::Node teacher_model = model_node.clone(), fake_model = model_node.clone();
  teacher_ = std::make_shared<nn::Model>(teacher_model, shape);
  fake_score_ = std::make_shared<nn::Model>(fake_model, shape);
  teacher_->to(exp.device);
  fake_score_->to(exp.device);
  for (auto& p : teacher_->parameters()) p.set_requires_grad(false);
  torch::Tensor feature_probe;
  try {
    torch::NoGradGuard no_grad;
    std::vector<int64_t> one = shape;
    one.insert(one.begin(), 1);
    feature_probe = teacher_->features(torch::zeros(one, torch::TensorOptions().device(exp.device)),
                                       torch::full({1}, 0.5, torch::TensorOptions().device(exp.device)));
  } catch (const Error& e) {
    model_node.fail("type", std::string("the discriminator reads the teacher's features: ") + e.what());
  }
  const std::vector<int64_t> feature_shape(feature_probe.sizes().begin() + 1, feature_probe.sizes().end());
  discriminator_ = std::make_shared<nn::DiscriminatorHead>(feature_shape);
  discriminator_->to(exp.device);

  config::Node train_node = config.section("train");
  config::Node fake_train = train_node.clone(), discriminator_train = train_node.clone();
  OptimizerWithSchedule fake = build_optimizer(fake_train, fake_score_->parameters());
  fake_optimizer_ = std::move(fake.optimizer);
  fake_schedule_ = std::move(fake.schedule);
  OptimizerWithSchedule discriminator = build_optimizer(discriminator_train, discriminator_->parameters());
  discriminator_optimizer_ = std::move(discriminator.optimizer);
  discriminator_schedule_ = std::move(discriminator.schedule);
}

OnestepDistillTask::~OnestepDistillTask() = default;

std::vector<TrainedModule> OnestepDistillTask::modules() {
  return {{kModelModule, exp_.model, exp_.ema_model},
          {kFakeScoreModule, fake_score_, nullptr},
          {kDiscriminatorModule, discriminator_, nullptr}};
}

std::vector<TrainedOptimizer> OnestepDistillTask::optimizers() {
  return {{kMainOptimizer, exp_.optimizer.get(), exp_.model->parameters(), exp_.schedule.get()},
          {kFakeScoreOptimizer, fake_optimizer_.get(), fake_score_->parameters(), fake_schedule_.get()},
          {kDiscriminatorOptimizer, discriminator_optimizer_.get(), discriminator_->parameters(),
           discriminator_schedule_.get()}};
}

void OnestepDistillTask::load_teacher() {
  if (teacher_run_) return;
  teacher_run_ = load_run(teacher_options_.run, {}, teacher_options_.checkpoint);
  Experiment& teacher = *teacher_run_->experiment;
  config::Node teacher_node = exp_.config.section("teacher");
  if (!teacher.has_flow()) teacher_node.fail("run", "the teacher must be a flow run (a model on a path)");
  for (const std::string& section : kSameAsTeacher) {
    if (exp_.config.section(section).to_yaml() != teacher.config.section(section).to_yaml()) {
      exp_.config.section(section).fail(
          "type", "must equal the teacher's " + section + " section (leave it out to take the teacher's)");
    }
  }
  if (teacher.data->sample_shape() != exp_.data->sample_shape()) {
    exp_.config.section("data").fail("type", "the data must have the teacher's sample shape");
  }
  copy_weights(*teacher_, sampling_model(teacher));
  teacher_->eval();
  log_info("teacher: " + teacher_run_->checkpoint + " (step " + std::to_string(teacher_run_->step) + ")");
}

void OnestepDistillTask::prepare(uint64_t) {
  load_teacher();
  // A path fitted to data (kinetic_optimal) is the teacher's.
  exp_.path->load_state(teacher_run_->experiment->path->state());
  copy_weights(*fake_score_, *teacher_);
  if (init_from_teacher_) {
    copy_weights(*exp_.model, *teacher_);
    copy_weights(*exp_.ema_model, *teacher_);
  }
}

torch::Tensor OnestepDistillTask::generate(nn::Model& generator, const torch::Tensor& z,
                                           const data::Condition& condition) {
  const torch::Tensor t0 = torch::zeros({z.size(0)}, z.options());
  return z + exp_.path->velocity(generator.forward(z, t0, condition), z, t0);
}

torch::Tensor OnestepDistillTask::teacher_data_estimate(const torch::Tensor& x_t, const torch::Tensor& t,
                                                        const data::Condition& c) {
  // Guidance combines conditional fields; an unconditional teacher is used as it is.
  const paths::ModelFn teacher = teacher_->num_classes() > 0 ? paths::guided(model_function(*teacher_), teacher_guidance_)
                                                             : model_function(*teacher_);
  const paths::Predictions out = teacher(x_t, t, c);
  return exp_.path->to_data(out.front().first, out.front().second, x_t, t);
}

torch::Tensor OnestepDistillTask::fake_data_estimate(const torch::Tensor& x_t, const torch::Tensor& t,
                                                     const data::Condition& c) {
  const paths::Predictions out = fake_score_->forward(x_t, t, c);
  return exp_.path->to_data(out.front().first, out.front().second, x_t, t);
}

torch::Tensor OnestepDistillTask::draw_times(int64_t n, at::Generator& gen) {
  if (options_.karras_times) {
    if (!karras_times_.defined()) {
      // EDM's grid sigma_i = (smax^(1/rho) + i / 999 (smin^(1/rho) - smax^(1/rho)))^rho, i = 0..999,
      // of which the reference code draws indices 2..998; its time bins span those times.
      const torch::Tensor i = torch::arange(2, 999, torch::kFloat64);
      const double a = std::pow(options_.sigma_max, 1 / options_.rho), b = std::pow(options_.sigma_min, 1 / options_.rho);
      const torch::Tensor sigma = torch::pow(a + i / 999.0 * (b - a), options_.rho);
      karras_times_ = paths::times_of_noise_ratio(*exp_.path, sigma).to(torch::kFloat32);
      // The bins move to the grid's time range; their means (restored by a resume) stay.
      const torch::Tensor means = normaliser_.means(), seen = normaliser_.seen();
      normaliser_ = distill::RatioNormaliser(options_.ratio_bins, options_.ratio_ema, karras_times_.min().item<double>(),
                                             karras_times_.max().item<double>() + 1e-6);
      normaliser_.load(means, seen);
    }
    const torch::Tensor index = torch::randint(0, karras_times_.size(0), {n}, gen, torch::TensorOptions().dtype(torch::kLong));
    return karras_times_.index_select(0, index).to(exp_.device);
  }
  const torch::Tensor u = torch::rand({n}, gen, torch::TensorOptions().dtype(torch::kFloat32));
  return (options_.t_min + (options_.t_max - options_.t_min) * u).to(exp_.device);
}

torch::Tensor OnestepDistillTask::noised(const torch::Tensor& x1, const torch::Tensor& t, at::Generator& gen) {
  // Drawn for the whole batch; a data-parallel process keeps its share.
  const data::BatchShard& shard = exp_.shard;
  const torch::Tensor x0 = shard.take(exp_.source->sample(shard.whole_size(x1.size(0)), gen).x).to(x1.device());
  torch::Tensor z;
  if (!exp_.path->deterministic()) {
    z = shard.take(torch::randn(shard.whole_sizes(x1.sizes()), gen, torch::TensorOptions())).to(x1.device());
  }
  return exp_.path->sample(x0, x1, t, z).x_t;
}

torch::Tensor OnestepDistillTask::discriminator_logits(const torch::Tensor& x_t, const torch::Tensor& t,
                                                       const data::Condition& c) {
  return discriminator_->forward(teacher_->features(x_t, t, c));
}

StepReport OnestepDistillTask::step(int64_t step, at::Generator& gen, GradientStep& update) {
  load_teacher();  // a resumed run has not prepared
  // Every draw is made for the whole batch; a data-parallel process keeps its share of
  // `batch` rows, and the batch statistics (ratio bins, the weights' mean) are summed over the shares.
  const data::BatchShard& shard = exp_.shard;
  const int64_t whole = exp_.train.batch_size;
  const int64_t batch = whole / shard.count;
  const data::Batch real = shard.take(exp_.data->sample(whole, gen));
  const bool conditional = exp_.model->num_classes() > 0;
  // Generated samples are drawn for the data batch's classes.
  const data::Condition condition{conditional ? real.label.to(exp_.device) : torch::Tensor()};
  const torch::Tensor z = shard.take(exp_.source->sample(whole, gen).x).to(exp_.device);
  StepReport report;

  // The fake score follows the generator's distribution: the teacher's regression on generated samples.
  torch::Tensor generated;
  {
    torch::NoGradGuard no_grad;
    generated = generate(*exp_.model, z, condition);
  }
  const torch::Tensor x0 = shard.take(exp_.source->sample(whole, gen).x).to(exp_.device);
  report.loss = update.apply(kFakeScoreOptimizer,
                             exp_.objective->loss(*fake_score_, *exp_.path, x0, generated, gen, condition, shard));
  report.values["fake_score_loss"] = report.loss;

  if (options_.needs_discriminator()) {
    const torch::Tensor t = shard.take(draw_times(whole, gen));
    torch::Tensor fake_features, real_features, perturbed_features;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor x_real = noised(real.x.to(exp_.device), t, gen);
      fake_features = teacher_->features(noised(generated, t, gen), t, condition);
      real_features = teacher_->features(x_real, t, condition);
      if (options_.r1_weight > 0) {
        const torch::Tensor e =
            shard.take(torch::randn(shard.whole_sizes(x_real.sizes()), gen, torch::TensorOptions())).to(exp_.device);
        perturbed_features = teacher_->features(x_real + options_.r1_noise * e, t, condition);
      }
    }
    const torch::Tensor logit_real = discriminator_->forward(real_features);
    torch::Tensor loss = distill::discriminator_loss(logit_real, discriminator_->forward(fake_features));
    if (options_.r1_weight > 0) {
      loss = loss + options_.r1_weight * (logit_real - discriminator_->forward(perturbed_features)).pow(2).mean();
    }
    report.values["discriminator_loss"] = update.apply(kDiscriminatorOptimizer, loss);
  }

  if (step % options_.fake_score_updates == 0) {
    const torch::Tensor x = generate(*exp_.model, z, condition);
    const torch::Tensor t = shard.take(draw_times(whole, gen));
    const torch::Tensor x_t = noised(x, t, gen);
    torch::Tensor x1_teacher, x1_fake;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor x_t_fixed = x_t.detach();
      x1_teacher = teacher_data_estimate(x_t_fixed, t, condition);
      x1_fake = fake_data_estimate(x_t_fixed, t, condition);
    }
    torch::Tensor h = torch::ones({batch}, x.options());
    torch::Tensor loss;
    torch::Tensor logit;
    if (options_.needs_discriminator()) {
      // The ratio alone needs no graph; the GAN term backpropagates through the logit into x.
      std::optional<torch::NoGradGuard> no_grad;
      if (options_.gan_weight == 0) no_grad.emplace();
      logit = discriminator_logits(x_t, t, condition);
    }
    if (options_.divergence != distill::Divergence::kReverseKl) {
      torch::Tensor r = distill::ratio_from_logits(logit.detach());
      if (options_.normalise_ratio) r = normaliser_.normalise(r, t, shard);
      h = distill::weight_of_ratio(options_.divergence, r);
      h = h / ((shard.whole() ? h.mean() : shard.sum(h.sum()) / static_cast<double>(whole)) + 1e-6);
      last_ratio_mean_ = r.mean().detach();
      last_weight_max_ = h.max().detach();
    }
    loss = distill::distribution_matching_loss(x, x1_fake, x1_teacher, h);
    if (options_.gan_weight > 0) loss = loss + options_.gan_weight * distill::generator_gan_loss(logit);
    last_generator_loss_ = update.apply(kMainOptimizer, loss);
  }
  // The generator's numbers of its latest step (it steps every fake_score_updates steps).
  report.values["generator_loss"] = last_generator_loss_;
  if (options_.divergence != distill::Divergence::kReverseKl) {
    report.values["ratio_mean"] = last_ratio_mean_;
    report.values["weight_max"] = last_weight_max_;
  }
  return report;
}

std::map<std::string, double> OnestepDistillTask::evaluate(uint64_t seed) { return evaluate_flow_task(exp_, seed); }

TaskState OnestepDistillTask::state() const {
  TaskState out = exp_.path->state();
  out.emplace_back("ratio_bin_means", normaliser_.means());
  out.emplace_back("ratio_bin_seen", normaliser_.seen());
  return out;
}

void OnestepDistillTask::load_state(const TaskState& state) {
  TaskState path_state;
  torch::Tensor means, seen;
  for (const auto& [name, value] : state) {
    if (name == "ratio_bin_means") {
      means = value;
    } else if (name == "ratio_bin_seen") {
      seen = value;
    } else {
      path_state.emplace_back(name, value);
    }
  }
  exp_.path->load_state(path_state);
  if (means.defined() && seen.defined()) normaliser_.load(means, seen);
}

}  // namespace flowlab::train
