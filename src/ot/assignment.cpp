#include "flowlab/ot/assignment.h"

#include <torch/torch.h>

#include <limits>
#include <vector>

namespace flowlab::ot {
namespace {

// One [n, m] problem (row-major float64, n <= m). Rows join one at a time; each
// join grows a shortest-path tree over the columns under reduced costs
// c - u - v >= 0 and flips the path to the first free column it reaches.
// Index 0 is a virtual column holding the row being added.
void assign(const double* c, int64_t n, int64_t m, int64_t* out) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0), slack(m + 1);
  std::vector<int64_t> row_of(m + 1, 0), previous(m + 1, 0);
  std::vector<char> visited(m + 1);
  for (int64_t i = 1; i <= n; ++i) {
    row_of[0] = i;
    int64_t column = 0;
    std::fill(slack.begin(), slack.end(), inf);
    std::fill(visited.begin(), visited.end(), 0);
    do {
      visited[column] = 1;
      const int64_t row = row_of[column];
      const double* costs = c + (row - 1) * m;
      double delta = inf;
      int64_t next = 0;
      for (int64_t j = 1; j <= m; ++j) {
        if (visited[j]) continue;
        const double reduced = costs[j - 1] - u[row] - v[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          previous[j] = column;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          next = j;
        }
      }
      for (int64_t j = 0; j <= m; ++j) {
        if (visited[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      column = next;
    } while (row_of[column] != 0);
    do {  // augment along the tree back to the virtual column
      const int64_t before = previous[column];
      row_of[column] = row_of[before];
      column = before;
    } while (column != 0);
  }
  for (int64_t j = 1; j <= m; ++j) {
    if (row_of[j] != 0) out[row_of[j] - 1] = j - 1;
  }
}

}  // namespace

torch::Tensor optimal_assignment(const torch::Tensor& cost) {
  TORCH_CHECK(cost.defined() && (cost.dim() == 2 || cost.dim() == 3),
              "optimal_assignment: expected a cost [n, m] or [B, n, m], got ",
              cost.defined() ? cost.sizes() : torch::IntArrayRef{});
  const torch::Tensor c = (cost.dim() == 2 ? cost.unsqueeze(0) : cost).detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t batch = c.size(0), n = c.size(1), m = c.size(2);
  TORCH_CHECK(n >= 1 && n <= m, "optimal_assignment: need 1 <= rows <= columns, got ", cost.sizes());
  TORCH_CHECK(torch::isfinite(c).all().item<bool>(), "optimal_assignment: the cost has non-finite entries");
  torch::Tensor out = torch::empty({batch, n}, torch::kInt64);
  for (int64_t b = 0; b < batch; ++b) {
    assign(c[b].data_ptr<double>(), n, m, out[b].data_ptr<int64_t>());
  }
  out = out.to(cost.device());
  return cost.dim() == 2 ? out.squeeze(0) : out;
}

ExactTransport exact_transport(const torch::Tensor& x, const torch::Tensor& y, GroundCost cost) {
  TORCH_CHECK(x.defined() && y.defined() && (x.dim() == 2 || x.dim() == 3) && x.sizes() == y.sizes(),
              "exact_transport: expected x and y of the same shape [n, d] or [B, n, d], got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{}, " and ", y.defined() ? y.sizes() : torch::IntArrayRef{});
  torch::NoGradGuard no_grad;
  const torch::Tensor c = cost_matrix(x.to(torch::kFloat64), y.to(x.device(), torch::kFloat64), cost);
  ExactTransport result;
  result.assignment = optimal_assignment(c);
  result.cost = c.gather(-1, result.assignment.unsqueeze(-1)).squeeze(-1).mean(-1);
  return result;
}

}  // namespace flowlab::ot
