#pragma once
// The Monge gap of a map T on a reference measure (Uscidda & Cuturi 2023).
#include <torch/types.h>

#include "flowlab/ot/sinkhorn.h"

namespace flowlab::ot {

/// M_eps(T) = (1/n) sum_i c(x_i, T(x_i)) - W_eps(x, T(x)) for points x [n, d] and
/// their images tx = T(x) [n, d], with W_eps the entropic cost in OTT's
/// ent_reg_cost convention (<P, C> - eps H(P), our entropy value) and c the
/// options' ground cost. M >= 0 up to the entropic bias: M_eps >= eps log n
/// always, M_eps in [eps log n, 2 eps log n] for T = Id, and M_eps -> 0 as
/// eps -> 0 exactly when T is c-cyclically monotone (an optimal map for c).
/// Differentiable in tx (and x) through the envelope theorem. The report of the
/// inner Sinkhorn problem is written to `report` when given.
torch::Tensor monge_gap(const torch::Tensor& x, const torch::Tensor& tx, const SinkhornOptions& options,
                        SinkhornReport* report = nullptr);

}  // namespace flowlab::ot
