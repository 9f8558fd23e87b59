#pragma once
// task: onestep_distill — a one-step generator x = G(z) distilled from a trained flow run (the
// teacher) by f-divergence distribution matching (distill/f_divergence.h; Xu, Nie & Vahdat
// 2025; reverse KL is DMD2):
//
//   task: onestep_distill
//   teacher: {run: runs/eight_gaussians, guidance: 1.0}  # a flow run on a Gaussian-source path
//   generator: {init: teacher}        # teacher: start from the teacher's weights | random
//   objective:
//     type: f_distill
//     divergence: jensen_shannon      # reverse_kl | softened_rkl | jensen_shannon | squared_hellinger | forward_kl | jeffreys
//     ratio_normalisation: {enabled: true, bins: 10, ema: 0.0}
//     gan_weight: 1.0e-3              # the generator's non-saturating GAN term
//     r1_weight: 1.0                  # approximate R1: (l(x_real) - l(x_real + r1_noise e))^2
//     r1_noise: 0.1
//     fake_score_updates: 5           # fake score and discriminator steps per generator step
//     time_sampler: uniform           # uniform: t ~ U[t_min, t_max] (0: noise, 1: data); karras: the
//     t_min: 0.02                     #   reference code's: an index uniform in 2..998 of EDM's 1000
//     t_max: 0.98                     #   Karras sigmas (sigma_min 0.002, sigma_max 80, rho 7), each
//                                     #   the time where the path's noise-to-signal ratio is sigma
//
// G(z) = z + b(z, 0): one Euler step of the generator network's velocity over the whole path,
// so `flowlab sample` draws with {solver: euler, steps: 1} (NFE 1), and the generator has the
// teacher's architecture and starts as the teacher's one-step sampler. data, source, path and
// model default to the teacher's sections (path, source and model must equal them); the fake
// score's regression loss is `fake_score_objective` (default: the teacher's objective).
//
// Three trained parts, each with its optimizer from train: the generator (module "model", with
// EMA), the fake score (a copy of the teacher trained online on generated samples on the
// teacher's path) and the discriminator head on the frozen teacher's features at x_t
// (nn/discriminator_head.h), trained by the non-saturating GAN loss between noised data and
// noised generated samples; its logit gives the density ratio r = p_teacher / q_generator.
#include <memory>
#include <optional>
#include <string>

#include "flowlab/distill/f_divergence.h"
#include "flowlab/nn/discriminator_head.h"
#include "flowlab/nn/model.h"
#include "flowlab/train/run.h"
#include "flowlab/train/task.h"

namespace flowlab::train {

/// Checkpoint names of the fake score, the discriminator and their optimizers.
constexpr const char* kFakeScoreModule = "fake_score";
constexpr const char* kDiscriminatorModule = "discriminator";
constexpr const char* kFakeScoreOptimizer = "fake_score_optimizer";
constexpr const char* kDiscriminatorOptimizer = "discriminator_optimizer";

struct FDistillOptions {
  distill::Divergence divergence = distill::Divergence::kReverseKl;
  bool normalise_ratio = true;
  int64_t ratio_bins = 10;
  double ratio_ema = 0.0;
  double gan_weight = 1e-3;
  double r1_weight = 1.0;
  double r1_noise = 0.1;
  int64_t fake_score_updates = 5;
  double t_min = 0.02, t_max = 0.98;
  bool karras_times = false;
  double sigma_min = 0.002, sigma_max = 80.0, rho = 7.0;
  /// Reads the `objective:` section (type f_distill).
  static FDistillOptions read(config::Node& node);
  /// Whether the discriminator is trained: its ratio weights every divergence but reverse KL,
  /// and the GAN term needs it.
  bool needs_discriminator() const { return divergence != distill::Divergence::kReverseKl || gan_weight > 0; }
};

class OnestepDistillTask : public Task {
 public:
  /// Fills the run's data, source, path, model, fake_score_objective and sample sections from
  /// the teacher's where absent, then builds the flow components and the three trained parts.
  explicit OnestepDistillTask(Experiment& exp);
  ~OnestepDistillTask() override;
  std::vector<TrainedModule> modules() override;
  std::vector<TrainedOptimizer> optimizers() override;
  void prepare(uint64_t seed) override;
  StepReport step(int64_t step, at::Generator& gen, GradientStep& update) override;
  std::map<std::string, double> evaluate(uint64_t seed) override;
  TaskState state() const override;
  void load_state(const TaskState& state) override;

 private:
  /// Loads the teacher run (once; training only: sampling a distilled run never needs it).
  void load_teacher();
  /// G(z) = z + b(z, 0) of `generator`.
  torch::Tensor generate(nn::Model& generator, const torch::Tensor& z, const data::Condition& condition);
  /// E[x1 | x_t] of the teacher (with teacher.guidance) or of the fake score.
  torch::Tensor teacher_data_estimate(const torch::Tensor& x_t, const torch::Tensor& t, const data::Condition& c);
  torch::Tensor fake_data_estimate(const torch::Tensor& x_t, const torch::Tensor& t, const data::Condition& c);
  /// x_t of the path between fresh noise and `x1` at times t.
  torch::Tensor noised(const torch::Tensor& x1, const torch::Tensor& t, at::Generator& gen);
  torch::Tensor draw_times(int64_t n, at::Generator& gen);
  torch::Tensor discriminator_logits(const torch::Tensor& x_t, const torch::Tensor& t, const data::Condition& c);

  Experiment& exp_;
  FDistillOptions options_;
  TeacherOptions teacher_options_;
  double teacher_guidance_ = 1.0;
  bool init_from_teacher_ = true;
  std::optional<LoadedRun> teacher_run_;
  std::shared_ptr<nn::Model> teacher_;  ///< architecture built here, weights from the teacher run
  std::shared_ptr<nn::Model> fake_score_;
  std::shared_ptr<nn::DiscriminatorHead> discriminator_;
  std::unique_ptr<torch::optim::Optimizer> fake_optimizer_, discriminator_optimizer_;
  std::unique_ptr<LrSchedule> fake_schedule_, discriminator_schedule_;
  distill::RatioNormaliser normaliser_;
  torch::Tensor karras_times_;  ///< time_sampler karras: the times of grid indices 2..998 (float32)
  torch::Tensor last_generator_loss_, last_ratio_mean_, last_weight_max_;  // 0-dim, on the device
};

}  // namespace flowlab::train
