#include "flowlab/distill/f_divergence.h"

#include <torch/torch.h>

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab::distill {
namespace {

// The reference code's bounds on the logit and on the ratio.
constexpr double kMaxRatioLogit = 10.0;
constexpr double kMinRatio = 0.1, kMaxRatio = 20.0;
constexpr double kNormaliserFloor = 1e-6;

const std::vector<std::pair<Divergence, std::string>>& divergence_table() {
  static const std::vector<std::pair<Divergence, std::string>> names{
      {Divergence::kReverseKl, "reverse_kl"},
      {Divergence::kSoftenedReverseKl, "softened_rkl"},
      {Divergence::kJensenShannon, "jensen_shannon"},
      {Divergence::kSquaredHellinger, "squared_hellinger"},
      {Divergence::kForwardKl, "forward_kl"},
      {Divergence::kJeffreys, "jeffreys"},
  };
  return names;
}

}  // namespace

const std::vector<std::string>& divergence_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [divergence, name] : divergence_table()) out.push_back(name);
    return out;
  }();
  return names;
}

Divergence divergence_from_name(const std::string& name) {
  for (const auto& [divergence, known] : divergence_table()) {
    if (known == name) return divergence;
  }
  throw Error("unknown divergence '" + name + "' (one of " + join(divergence_names(), ", ") + ")");
}

const std::string& divergence_name(Divergence divergence) {
  for (const auto& [known, name] : divergence_table()) {
    if (known == divergence) return name;
  }
  throw Error("divergence_name: not a divergence");
}

torch::Tensor f_of_ratio(Divergence divergence, const torch::Tensor& r) {
  switch (divergence) {
    case Divergence::kReverseKl:
      return -torch::log(r);
    case Divergence::kSoftenedReverseKl:
      return (r + 1) * torch::log(0.5 + 0.5 / r);
    case Divergence::kJensenShannon:
      return r * torch::log(r) - (r + 1) * torch::log((r + 1) / 2);
    case Divergence::kSquaredHellinger:
      return 1 - torch::sqrt(r);
    case Divergence::kForwardKl:
      return r * torch::log(r);
    case Divergence::kJeffreys:
      return (r - 1) * torch::log(r);
  }
  throw Error("f_of_ratio: not a divergence");
}

torch::Tensor weight_of_ratio(Divergence divergence, const torch::Tensor& r) {
  switch (divergence) {
    case Divergence::kReverseKl:
      return torch::ones_like(r);
    case Divergence::kSoftenedReverseKl:
      return 1 / (r + 1);
    case Divergence::kJensenShannon:
      return r / (r + 1);
    case Divergence::kSquaredHellinger:
      return 0.25 * torch::sqrt(r);
    case Divergence::kForwardKl:
      return r.clone();
    case Divergence::kJeffreys:
      return r + 1;
  }
  throw Error("weight_of_ratio: not a divergence");
}

torch::Tensor ratio_from_logits(const torch::Tensor& logits) {
  const torch::Tensor per_sample = logits.dim() > 1 ? logits.flatten(1).mean(1) : logits;
  return torch::exp(per_sample.clamp(-kMaxRatioLogit, kMaxRatioLogit)).clamp(kMinRatio, kMaxRatio);
}

RatioNormaliser::RatioNormaliser(int64_t bins, double ema, double t_min, double t_max)
    : bins_(bins), ema_(ema), t_min_(t_min), t_max_(t_max) {
  TORCH_CHECK(bins >= 1, "ratio normalisation: bins must be >= 1, got ", bins);
  TORCH_CHECK(ema >= 0 && ema < 1, "ratio normalisation: ema must be in [0, 1), got ", ema);
  TORCH_CHECK(t_max > t_min, "ratio normalisation: empty time range [", t_min, ", ", t_max, "]");
  means_ = torch::zeros({bins}, torch::kFloat64);
  seen_ = torch::zeros({bins}, torch::kBool);
}

torch::Tensor RatioNormaliser::normalise(const torch::Tensor& r, const torch::Tensor& t, const data::BatchShard& shard) {
  const torch::Tensor r64 = r.detach().to(torch::kCPU, torch::kFloat64).flatten();
  const torch::Tensor position = (t.detach().to(torch::kCPU, torch::kFloat64).flatten() - t_min_) / (t_max_ - t_min_);
  const torch::Tensor bin = (position * static_cast<double>(bins_)).floor().clamp(0, bins_ - 1).to(torch::kLong);
  const torch::Tensor count = shard.sum(torch::bincount(bin, {}, bins_).to(torch::kFloat64));
  const torch::Tensor sum = shard.sum(torch::bincount(bin, r64, bins_));
  const torch::Tensor present = count > 0;
  const torch::Tensor batch_mean = sum / count.clamp_min(1.0);
  // A bin seen for the first time starts from its batch mean (no decay towards 0).
  const torch::Tensor updated = torch::where(seen_, ema_ * means_ + (1 - ema_) * batch_mean, batch_mean);
  means_ = torch::where(present, updated, means_);
  seen_ = seen_.logical_or(present);
  const torch::Tensor divisor = means_.index_select(0, bin) + kNormaliserFloor;
  return (r64 / divisor).to(r.dtype()).to(r.device()).view(r.sizes());
}

void RatioNormaliser::load(const torch::Tensor& means, const torch::Tensor& seen) {
  TORCH_CHECK(means.numel() == bins_ && seen.numel() == bins_, "ratio normalisation: checkpoint has ",
              means.numel(), " bins, the config ", bins_);
  means_ = means.to(torch::kCPU, torch::kFloat64).flatten().clone();
  seen_ = seen.to(torch::kCPU, torch::kBool).flatten().clone();
}

torch::Tensor distribution_matching_loss(const torch::Tensor& x, const torch::Tensor& x1_fake,
                                         const torch::Tensor& x1_teacher, const torch::Tensor& h) {
  TORCH_CHECK(x.sizes() == x1_fake.sizes() && x.sizes() == x1_teacher.sizes(),
              "distribution matching: x, x1_fake and x1_teacher must have one shape, got ", x.sizes(), ", ",
              x1_fake.sizes(), ", ", x1_teacher.sizes());
  TORCH_CHECK(h.dim() == 1 && h.size(0) == x.size(0), "distribution matching: h must be [B], got ", h.sizes());
  torch::Tensor target;
  {
    // DMD2's arithmetic step for step (p = x - x1_hat; the gradient (p_teacher - p_fake) over the
    // mean |p_teacher| of the sample), so that h = 1 reproduces it bit for bit.
    torch::NoGradGuard no_grad;
    std::vector<int64_t> per_sample(static_cast<std::size_t>(x.dim()), 1), sample_dims;
    per_sample[0] = x.size(0);
    for (int64_t d = 1; d < x.dim(); ++d) sample_dims.push_back(d);
    const torch::Tensor p_teacher = x - x1_teacher, p_fake = x - x1_fake;
    const torch::Tensor normaliser = p_teacher.abs().mean(sample_dims, /*keepdim=*/true) + kNormaliserFloor;
    target = x - (p_teacher - p_fake) * h.to(x.dtype()).view(per_sample) / normaliser;
  }
  return 0.5 * torch::mse_loss(x, target);
}

torch::Tensor discriminator_loss(const torch::Tensor& logit_real, const torch::Tensor& logit_fake) {
  return torch::softplus(logit_fake).mean() + torch::softplus(-logit_real).mean();
}

torch::Tensor generator_gan_loss(const torch::Tensor& logit_fake) { return torch::softplus(-logit_fake).mean(); }

}  // namespace flowlab::distill
