#include "flowlab/ot/assignment.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace flowlab::ot {
namespace {

// One [n, m] problem (row-major float64, 1 < n <= m) by Jonker and Volgenant's
// method (Computing 38, 1987), written for a rectangular cost.
//
// Invariant: every assigned row i sits at a minimum of its reduced row
// c[i, :] - v (its potential u_i is that minimum), so c - u - v >= 0 with
// equality on the assignment. When n < m the optimum of the rectangular problem
// also needs v <= 0 with v = 0 on the columns left free: the prices then start
// at zero and only ever fall on columns that stay assigned.
class JonkerVolgenant {
 public:
  JonkerVolgenant(const double* c, int64_t n, int64_t m)
      : c_(c), n_(n), m_(m), v_(m, 0.0), row_of_(m, -1), column_of_(n, -1),
        list_(m), position_(m) {}

  void solve(int64_t* out) {
    std::vector<int64_t> free;
    if (n_ == m_) {
      free = reduce_columns();
    } else {
      free.resize(n_);
      for (int64_t i = 0; i < n_; ++i) free[i] = i;
    }
    for (int pass = 0; pass < 2 && !free.empty(); ++pass) augmenting_row_reduction(free);
    for (const int64_t row : free) shortest_augmenting_path(row);
    std::copy(column_of_.begin(), column_of_.end(), out);
  }

 private:
  const double* row(int64_t i) const { return c_ + i * m_; }

  // Column reduction (v_j = min_i c[i, j], each column to a row of its minimum
  // when that row has no column yet), then reduction transfer: a row holding
  // exactly one column lowers that column's price by the gap to its second-best
  // reduced cost, so other rows find it dearer later. Square problems only.
  // Returns the rows left free.
  std::vector<int64_t> reduce_columns() {
    std::vector<int64_t> argmin(m_, 0);
    std::copy(row(0), row(0) + m_, v_.begin());
    for (int64_t i = 1; i < n_; ++i) {  // row-wise, for the cache
      const double* ci = row(i);
      for (int64_t j = 0; j < m_; ++j) {
        if (ci[j] < v_[j]) {
          v_[j] = ci[j];
          argmin[j] = i;
        }
      }
    }
    std::vector<int64_t> matches(n_, 0);
    for (int64_t j = m_ - 1; j >= 0; --j) {
      const int64_t i = argmin[j];
      if (++matches[i] == 1) {
        column_of_[i] = j;
        row_of_[j] = i;
      }
    }
    std::vector<int64_t> free;
    for (int64_t i = 0; i < n_; ++i) {
      if (matches[i] == 0) {
        free.push_back(i);
      } else if (matches[i] == 1) {
        const int64_t j1 = column_of_[i];
        const double* ci = row(i);
        double second = std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < m_; ++j) {
          if (j != j1) second = std::min(second, ci[j] - v_[j]);
        }
        // c[i, j1] - v[j1] = 0 here and second >= 0 (v is the column minimum).
        v_[j1] -= second;
      }
    }
    return free;
  }

  // One pass of augmenting row reduction, an auction step per free row: the row
  // takes the column of its smallest reduced cost and lowers that column's price
  // until the second smallest ties, evicting the column's previous row. An
  // evicted row is served again within the pass when the price strictly fell
  // (progress), else at the next pass. The pass ends after a bounded number of
  // steps: with near-ties prices may fall by tiny amounts for a long time (or,
  // below the price's resolution, not at all), and the rows still free are left
  // to the shortest augmenting paths, which are exact. `free` becomes the rows
  // still free.
  void augmenting_row_reduction(std::vector<int64_t>& free) {
    const double inf = std::numeric_limits<double>::infinity();
    const int64_t count = static_cast<int64_t>(free.size());
    const int64_t max_steps = m_ + count;
    int64_t k = 0, kept = 0, steps = 0;  // free[0, kept): rows for the next pass; kept <= k
    while (k < count) {
      if (++steps > max_steps) {
        while (k < count) free[kept++] = free[k++];
        break;
      }
      const int64_t i = free[k++];
      const double* ci = row(i);
      double best = ci[0] - v_[0], second = inf;
      int64_t j1 = 0, j2 = -1;
      for (int64_t j = 1; j < m_; ++j) {
        const double h = ci[j] - v_[j];
        if (h < second) {
          if (h >= best) {
            second = h;
            j2 = j;
          } else {
            second = best;
            best = h;
            j2 = j1;
            j1 = j;
          }
        }
      }
      int64_t evicted = row_of_[j1];
      bool progress = false;
      if (best < second) {
        const double lowered = v_[j1] - (second - best);
        if (lowered < v_[j1]) {
          v_[j1] = lowered;
          progress = true;
        } else if (evicted >= 0) {  // the gap is below the price's resolution
          free[kept++] = i;
          continue;
        }
      } else if (evicted >= 0) {  // a tie: take the other minimum instead
        j1 = j2;
        evicted = row_of_[j2];
      }
      column_of_[i] = j1;
      row_of_[j1] = i;
      if (evicted >= 0) {
        column_of_[evicted] = -1;
        if (progress) {
          free[--k] = evicted;
        } else {
          free[kept++] = evicted;
        }
      }
    }
    free.resize(kept);
  }

  // Dijkstra over the columns from the free row `start` under the reduced costs,
  // up to the first free column, with JV's scan list: list_[0, low) are done
  // (their distance is final), list_[low, up) sit at the current minimum
  // distance `least` and wait to be scanned, list_[up, m) are the rest. Each
  // slot carries its column's distance, price and predecessor row, so a scan
  // reads memory in order except for the cost row itself; the scan that
  // empties a level gathers the next one in the same pass. Then the done
  // columns' prices move by their distance below `least`, which keeps the
  // invariant, and the assignment flips along the path.
  void shortest_augmenting_path(int64_t start) {
    const double* cs = row(start);
    int64_t low = 0, up = 0, done = 0;
    double least = std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < m_; ++j) {  // the first level comes with the initial distances
      list_[j] = {cs[j] - v_[j], v_[j], j, start};
      if (list_[j].distance <= least) {
        if (list_[j].distance < least) {
          up = 0;
          least = list_[j].distance;
        }
        std::swap(list_[j], list_[up++]);
      }
    }
    Slot* end = free_in(low, up);
    while (end == nullptr) {
      TORCH_INTERNAL_ASSERT(low < up, "optimal_assignment: no free column reachable");
      const Slot& scanned = list_[low++];
      const int64_t i = row_of_[scanned.column];
      const double* ci = row(i);
      const double offset = ci[scanned.column] - scanned.price - least;
      // Relax the unreached columns through row i, branch-free but for the rare
      // column that lands at `least`: it joins the level.
      for (int64_t k = up; k < m_; ++k) {
        Slot& s = list_[k];
        const double reduced = ci[s.column] - s.price - offset;
        const int64_t keep = -static_cast<int64_t>(s.distance <= reduced);  // all ones or zero
        s.predecessor = (s.predecessor & keep) | (i & ~keep);
        s.distance = std::min(s.distance, reduced);
        if (s.distance <= least) {
          if (row_of_[s.column] < 0) {
            end = &s;
            break;
          }
          std::swap(s, list_[up++]);
        }
      }
      if (end == nullptr && low == up) {  // the level is spent: gather the next one
        done = low;
        least = least_distance(up);
        for (int64_t k = up; k < m_; ++k) {
          if (list_[k].distance == least) std::swap(list_[k], list_[up++]);
        }
        end = free_in(low, up);
      }
    }
    for (int64_t k = 0; k < done; ++k) {
      const Slot& s = list_[k];
      v_[s.column] = s.price + (s.distance - least);
    }
    for (int64_t k = 0; k < low; ++k) position_[list_[k].column] = k;
    int64_t i = end->predecessor;
    for (int64_t j = end->column;;) {
      row_of_[j] = i;
      const int64_t previous = column_of_[i];
      column_of_[i] = j;
      if (i == start) break;
      j = previous;
      i = list_[position_[j]].predecessor;
    }
  }

  struct Slot {
    double distance, price;
    int64_t column, predecessor;
  };

  // min of list_[from, m).distance (four running minima: no chain of dependent minsd).
  double least_distance(int64_t from) const {
    double a = std::numeric_limits<double>::infinity(), b = a, c = a, d = a;
    int64_t k = from;
    for (; k + 4 <= m_; k += 4) {
      a = std::min(a, list_[k].distance);
      b = std::min(b, list_[k + 1].distance);
      c = std::min(c, list_[k + 2].distance);
      d = std::min(d, list_[k + 3].distance);
    }
    for (; k < m_; ++k) a = std::min(a, list_[k].distance);
    return std::min(std::min(a, b), std::min(c, d));
  }

  // The first slot in list_[from, to) whose column is free, or null.
  Slot* free_in(int64_t from, int64_t to) {
    for (int64_t k = from; k < to; ++k) {
      if (row_of_[list_[k].column] < 0) return &list_[k];
    }
    return nullptr;
  }

  const double* c_;
  int64_t n_, m_;
  std::vector<double> v_;  // column prices
  std::vector<int64_t> row_of_, column_of_;
  std::vector<Slot> list_;
  std::vector<int64_t> position_;
};

constexpr int kLargestExponent = 900;  // costs are scaled to |c| < 2^901

void assign(const double* c, int64_t n, int64_t m, int64_t* out) {
  if (n == 1) {  // a row's first minimum
    out[0] = std::min_element(c, c + m) - c;
    return;
  }
  JonkerVolgenant(c, n, m).solve(out);
}

}  // namespace

torch::Tensor optimal_assignment(const torch::Tensor& cost) {
  TORCH_CHECK(cost.defined() && (cost.dim() == 2 || cost.dim() == 3),
              "optimal_assignment: expected a cost [n, m] or [B, n, m], got ",
              cost.defined() ? cost.sizes() : torch::IntArrayRef{});
  torch::Tensor c = (cost.dim() == 2 ? cost.unsqueeze(0) : cost).detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t batch = c.size(0), n = c.size(1), m = c.size(2);
  TORCH_CHECK(n >= 1 && n <= m, "optimal_assignment: need 1 <= rows <= columns, got ", cost.sizes());
  const double largest = c.numel() > 0 ? c.abs().max().item<double>() : 0.0;  // NaN if any entry is
  TORCH_CHECK(std::isfinite(largest), "optimal_assignment: the cost has non-finite entries");
  // Prices reach a few times the cost range, so c - v could overflow for costs
  // near DBL_MAX: those are scaled down by a power of two, which is exact and
  // leaves the optimal assignment as it is.
  if (std::ilogb(largest) > kLargestExponent) c = c * std::ldexp(1.0, kLargestExponent - std::ilogb(largest));
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
