#pragma once
// How many threads LibTorch (and its BLAS) computes with.
#include <cstdint>

namespace flowlab {

/// Cores this process may run on (its CPU affinity).
int64_t available_cores();

/// Sets LibTorch's intra-op threads to `threads`, or to available_cores() when threads <= 0. Its
/// default can leave BLAS on one thread (about 1.6x slower Sinkhorn at n = 1000 on 2 cores).
void use_threads(int64_t threads = 0);

/// Intra-op threads for training steps of `multiply_adds` (forward, whole batch; < 0: unknown):
/// one thread below kSmallStep, where a step is a few hundred small operations and a second
/// thread costs more in hand-offs than it gives (moons, batch 256, 2 cores: width 64 (3.3 M)
/// 1.08x faster on one thread, width 128 (10.6 M) 1.06x and width 256 (38 M) 1.37x faster on
/// two); available_cores() otherwise.
inline constexpr int64_t kSmallStep = 6'000'000;
int64_t training_threads(int64_t multiply_adds);

}  // namespace flowlab
