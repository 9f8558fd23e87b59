#include "flowlab/distill/logit_losses.h"

#include <torch/torch.h>

#include <cmath>
#include <tuple>

#include "flowlab/core/error.h"
#include "flowlab/ot/sinkhorn.h"

namespace flowlab::distill {
namespace {

void check_logits(const char* what, const torch::Tensor& student, const torch::Tensor& teacher) {
  TORCH_CHECK(student.dim() == 2 && student.sizes() == teacher.sizes(), what,
              ": student and teacher logits [B, K] of equal shape expected, got ", student.sizes(), " and ",
              teacher.sizes());
}

void check_labels(const char* what, const torch::Tensor& logits, const torch::Tensor& labels) {
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), what, ": labels [B] expected, got ",
              labels.sizes(), " for logits ", logits.sizes());
}

void check_temperature(const char* what, double temperature) {
  TORCH_CHECK(temperature > 0, what, ": the temperature must be > 0, got ", temperature);
}

// KL(softmax(a) || softmax(b)) per row from log-probabilities.
torch::Tensor kl_rows(const torch::Tensor& log_p, const torch::Tensor& log_q) {
  return (log_p.exp() * (log_p - log_q)).sum(1);
}

}  // namespace

torch::Tensor softmax_entropy(const torch::Tensor& logits, double temperature) {
  const torch::Tensor log_p = torch::log_softmax(logits / temperature, 1);
  return -(log_p.exp() * log_p).sum(1);
}

torch::Tensor kd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature) {
  check_logits("kd", student, teacher);
  check_temperature("kd", temperature);
  const double t = temperature;
  return t * t * kl_rows(torch::log_softmax(teacher / t, 1), torch::log_softmax(student / t, 1)).mean();
}

torch::Tensor reverse_kd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature) {
  check_logits("reverse_kd", student, teacher);
  check_temperature("reverse_kd", temperature);
  const double t = temperature;
  return t * t * kl_rows(torch::log_softmax(student / t, 1), torch::log_softmax(teacher / t, 1)).mean();
}

torch::Tensor js_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature) {
  check_logits("js", student, teacher);
  check_temperature("js", temperature);
  const double t = temperature;
  const torch::Tensor log_s = torch::log_softmax(student / t, 1), log_t = torch::log_softmax(teacher / t, 1);
  // log m = log((p_s + p_t) / 2), stably.
  const torch::Tensor log_m = torch::logaddexp(log_s, log_t) - std::log(2.0);
  return t * t * 0.5 * (kl_rows(log_t, log_m) + kl_rows(log_s, log_m)).mean();
}

DkdParts dkd_parts(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                   double temperature) {
  check_logits("dkd", student, teacher);
  check_labels("dkd", student, labels);
  check_temperature("dkd", temperature);
  const double t = temperature;
  const torch::Tensor y = labels.to(student.device(), torch::kLong).unsqueeze(1);
  const torch::Tensor target_mask = torch::zeros_like(student, student.options().dtype(torch::kBool)).scatter_(1, y, true);
  const torch::Tensor log_s = torch::log_softmax(student / t, 1), log_t = torch::log_softmax(teacher / t, 1);
  // Binary (p_y, 1 - p_y) in log form: log p_y and log(1 - p_y) = logsumexp over the other classes.
  const auto binary = [&](const torch::Tensor& log_p) {
    const torch::Tensor log_target = log_p.gather(1, y);
    const torch::Tensor log_rest = log_p.masked_fill(target_mask, -INFINITY).logsumexp(1, true);
    return torch::cat({log_target, log_rest}, 1);
  };
  DkdParts parts;
  parts.target = kl_rows(binary(log_t), binary(log_s));
  // Non-target distributions: softmax over the other classes (the target masked out exactly, where
  // mdistiller subtracts 1000 from its logit).
  const auto others = [&](const torch::Tensor& logits) {
    return torch::log_softmax((logits / t).masked_fill(target_mask, -INFINITY), 1);
  };
  const torch::Tensor log_s_rest = others(student), log_t_rest = others(teacher);
  // 0 log 0 = 0 at the masked entry.
  parts.non_target = (log_t_rest.exp() * (log_t_rest - log_s_rest)).masked_fill(target_mask, 0.0).sum(1);
  parts.teacher_target_probability = log_t.gather(1, y).squeeze(1).exp();
  return parts;
}

torch::Tensor dkd_loss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                       double temperature, double alpha, double beta) {
  const DkdParts parts = dkd_parts(student, teacher, labels, temperature);
  const double t2 = temperature * temperature;
  return t2 * (alpha * parts.target + beta * parts.non_target).mean();
}

torch::Tensor dist_loss(const torch::Tensor& student, const torch::Tensor& teacher, double tau, double beta,
                        double gamma) {
  check_logits("dist", student, teacher);
  check_temperature("dist", tau);
  const torch::Tensor ys = torch::softmax(student / tau, 1), yt = torch::softmax(teacher / tau, 1);
  // Pearson correlation along `dim` as the cosine of the centred vectors (torchdistill, eps 1e-8).
  const auto relation = [](const torch::Tensor& a, const torch::Tensor& b, int64_t dim) {
    const torch::Tensor ca = a - a.mean(dim, true), cb = b - b.mean(dim, true);
    return 1.0 - torch::cosine_similarity(ca, cb, dim, 1e-8).mean();
  };
  return tau * tau * (beta * relation(ys, yt, 1) + gamma * relation(ys, yt, 0));
}

torch::Tensor bd_kd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature,
                         const DivergenceBalance& balance) {
  check_logits("bd_kd", student, teacher);
  check_temperature("bd_kd", temperature);
  const double t = temperature;
  const torch::Tensor log_s = torch::log_softmax(student / t, 1), log_t = torch::log_softmax(teacher / t, 1);
  torch::Tensor forward_weight, reverse_weight;
  {
    torch::NoGradGuard no_grad;
    std::tie(forward_weight, reverse_weight) =
        balance(-(log_s.exp() * log_s).sum(1).detach(), -(log_t.exp() * log_t).sum(1).detach());
  }
  return t * t * (forward_weight * kl_rows(log_t, log_s) + reverse_weight * kl_rows(log_s, log_t)).mean();
}

torch::Tensor pld_loss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                       double teacher_temperature) {
  check_logits("pld", student, teacher);
  check_labels("pld", student, labels);
  check_temperature("pld", teacher_temperature);
  const torch::Tensor y = labels.to(student.device(), torch::kLong).unsqueeze(1);
  torch::Tensor order, weights;
  {
    torch::NoGradGuard no_grad;
    // pi*: the label first (its key raised to +inf), then the rest by descending teacher logit.
    const torch::Tensor key = teacher.detach().scatter(1, y, INFINITY);
    order = std::get<1>(key.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
  }
  weights = torch::softmax(teacher / teacher_temperature, 1).gather(1, order);
  const torch::Tensor s = student.gather(1, order);
  // log sum_{l >= k} exp(s_l): a reversed cumulative logsumexp.
  const torch::Tensor tail = s.flip({1}).logcumsumexp(1).flip({1});
  return (weights * (tail - s)).sum(1).mean();
}

torch::Tensor sinkd_plain_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature,
                               double eps, int64_t iterations) {
  check_logits("sinkd", student, teacher);
  check_temperature("sinkd", temperature);
  TORCH_CHECK(eps > 0 && iterations >= 1, "sinkd: eps > 0 and iterations >= 1 expected");
  const torch::Tensor ps = torch::softmax(student / temperature, 1), pt = torch::softmax(teacher / temperature, 1);
  const torch::Tensor cost = (ps.unsqueeze(1) - pt.unsqueeze(0)).abs().sum(2);  // [B, B], L1
  torch::Tensor plan = torch::exp(-cost / eps);
  for (int64_t i = 0; i < iterations; ++i) {
    plan = plan / plan.sum(1, true);
    plan = plan / plan.sum(0, true);
  }
  return (plan * cost).sum();
}

torch::Tensor sinkd_loss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature, double eps,
                         double tolerance, int64_t max_iterations) {
  check_logits("sinkd", student, teacher);
  check_temperature("sinkd", temperature);
  const torch::Tensor ps = torch::softmax(student / temperature, 1), pt = torch::softmax(teacher / temperature, 1);
  const torch::Tensor cost = (ps.unsqueeze(1) - pt.unsqueeze(0)).abs().sum(2);
  ot::SinkhornOptions options;
  options.eps = eps;
  options.tolerance = tolerance;
  options.max_iterations = max_iterations;
  const ot::SinkhornResult r = ot::sinkhorn_on_costs(cost.detach().to(torch::kFloat64), {}, {}, options);
  if (!r.report.converged) throw Error("sinkd: Sinkhorn did not converge (" + r.report.summary() + "); raise eps or max_iterations");
  return (r.plan.to(cost.scalar_type()) * cost).sum();
}

}  // namespace flowlab::distill
