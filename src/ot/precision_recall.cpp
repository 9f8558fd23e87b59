#include "flowlab/ot/precision_recall.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "samples.h"

namespace flowlab::ot {
namespace {

// x [N, ...] as a detached [N, d] matrix in `dtype` on `device`.
torch::Tensor as_rows(const torch::Tensor& x, torch::Device device, torch::ScalarType dtype) {
  TORCH_CHECK(x.defined() && x.dim() >= 1 && x.size(0) >= 1 && x.numel() >= x.size(0),
              "precision_recall: expected samples [N, ...] with N >= 1 and at least one coordinate, got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
  return x.detach().to(device, dtype).reshape({x.size(0), -1});
}

// Distance from each point to its k-th nearest other point of the same set, [M].
torch::Tensor knn_radii(const torch::Tensor& points, int64_t k, int64_t chunk_rows) {
  const int64_t m = points.size(0);
  std::vector<torch::Tensor> radii;
  for (int64_t start = 0; start < m; start += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, m - start);
    torch::Tensor distances = detail::pairwise_distances(points.narrow(0, start, rows), points);
    // Itself excluded by index, so a duplicate point still counts as a neighbour at distance 0.
    distances.narrow(1, start, rows).diagonal().fill_(std::numeric_limits<double>::infinity());
    radii.push_back(std::get<0>(distances.topk(k, 1, /*largest=*/false, /*sorted=*/true)).select(1, k - 1));
  }
  return torch::cat(radii);
}

}  // namespace

int64_t count_in_manifold(const torch::Tensor& queries, const torch::Tensor& reference, int64_t k,
                          int64_t chunk_rows) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(k >= 1 && chunk_rows >= 1, "count_in_manifold: need k >= 1 and chunk_rows >= 1, got ", k, " and ",
              chunk_rows);
  const torch::ScalarType common = at::promote_types(queries.scalar_type(), reference.scalar_type());
  const torch::ScalarType dtype = c10::isFloatingType(common) ? common : torch::kFloat32;
  const torch::Tensor q = as_rows(queries, queries.device(), dtype);
  const torch::Tensor r = as_rows(reference, queries.device(), dtype);
  TORCH_CHECK(q.size(1) == r.size(1), "count_in_manifold: samples of different dimension, ", queries.sizes(),
              " vs ", reference.sizes());
  if (r.size(0) <= k) {
    throw Error("precision/recall: the k-NN manifold of " + std::to_string(r.size(0)) + " points needs more than k = " +
                std::to_string(k) + " of them (raise the number of samples or lower k)");
  }
  const torch::Tensor radii = knn_radii(r, k, chunk_rows).unsqueeze(0);
  // Counted on the device; one transfer at the end.
  torch::Tensor inside = torch::zeros({}, q.options().dtype(torch::kLong));
  for (int64_t start = 0; start < q.size(0); start += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, q.size(0) - start);
    inside += (detail::pairwise_distances(q.narrow(0, start, rows), r) <= radii).any(1).sum();
  }
  return inside.item<int64_t>();
}

PrecisionRecall precision_recall(const torch::Tensor& samples, const torch::Tensor& data, int64_t k,
                                 int64_t chunk_rows) {
  PrecisionRecall out;
  out.precise_samples = count_in_manifold(samples, data, k, chunk_rows);
  out.recalled_data = count_in_manifold(data, samples, k, chunk_rows);
  out.precision = static_cast<double>(out.precise_samples) / static_cast<double>(samples.size(0));
  out.recall = static_cast<double>(out.recalled_data) / static_cast<double>(data.size(0));
  return out;
}

}  // namespace flowlab::ot
