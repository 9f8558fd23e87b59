#pragma once
// How many threads LibTorch (and its BLAS) computes with.
#include <cstdint>

namespace flowlab {

/// Cores this process may run on (its CPU affinity).
int64_t available_cores();

/// Sets LibTorch's intra-op threads to `threads`, or to available_cores() when threads <= 0. Its
/// default can leave BLAS on one thread (about 1.6x slower Sinkhorn at n = 1000 on 2 cores).
void use_threads(int64_t threads = 0);

}  // namespace flowlab
