#include "flowlab/diagnostics/intrinsic_dimension.h"

#include <torch/torch.h>

namespace flowlab::diagnostics {

SpectrumDimension score_spectrum_dimension(const PointField& score, const torch::Tensor& centres, double sigma,
                                           int64_t samples, at::Generator& gen) {
  TORCH_CHECK(centres.dim() == 2 && centres.size(1) >= 2, "score spectrum: centres must be [P, D >= 2], got ",
              centres.sizes());
  TORCH_CHECK(sigma > 0 && samples >= 2, "score spectrum: sigma > 0 and at least 2 samples are needed");
  const int64_t points = centres.size(0), dim = centres.size(1);
  std::vector<torch::Tensor> spectra;
  torch::NoGradGuard no_grad;
  for (int64_t p = 0; p < points; ++p) {
    const auto noise = torch::randn({samples, dim}, gen, torch::kFloat64).to(centres.options());
    const auto around = centres[p].unsqueeze(0) + sigma * noise;
    auto s = score(around).to(torch::kFloat64).cpu();
    s = s - s.mean(0, true);
    spectra.push_back(torch::linalg_svdvals(s));
  }
  const auto values = torch::stack(spectra);  // [P, min(K, D)], decreasing
  const auto gaps = values.slice(1, 0, -1) - values.slice(1, 1);
  // argmax over j = 1..: j singular values lie above the largest gap.
  const auto above = gaps.argmax(1) + 1;
  return {dim - above, values};
}

}  // namespace flowlab::diagnostics
