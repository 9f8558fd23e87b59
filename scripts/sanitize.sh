#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer lane (README "Fuzzing and sanitizers"):
# builds flowlab and the fast test areas with FLOWLAB_SANITIZE=ON (GCC, RelWithDebInfo) into
# build-sanitize/ against Debian's LibTorch and runs them through ctest (arguments go to ctest).
# `scripts/test.sh --sanitize` runs this. Not part of default CI.
# The fast areas are the test folders whose labels FLOWLAB_SANITIZE_LABELS matches; left out:
# e2e (the CLI end to end), distributed (several processes), install (a second CMake project)
# and the areas that train models for minutes (kinetic, likelihood, sampling, diagnostics,
# distill), which under ASan take longer than the rest together.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
areas=${FLOWLAB_SANITIZE_AREAS:-"config core data io nn objectives ot paths sde solvers train"}
labels="^($(echo "$areas" | tr ' ' '|'))\$"
# (GNU nproc answers OMP_NUM_THREADS when it is set: builds get every core, tests one thread each.)
jobs=$(env -u OMP_NUM_THREADS nproc 2>/dev/null || echo 2)

# Leak checking is off: LibTorch and OpenMP (not built with ASan) keep allocations made at start
# (thread pools, operator registries) until exit, which LeakSanitizer reports. UBSan stops at
# its first finding (halt_on_error) so a finding fails the test; suppressions (code outside
# flowlab only, each with its reason): scripts/sanitizers/ubsan.supp.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/scripts/sanitizers/ubsan.supp:${UBSAN_OPTIONS:-}"

start=$(date +%s)
FLOWLAB_TORCH=debian ./scripts/setup.sh
env -u OMP_NUM_THREADS FLOWLAB_TORCH=debian FLOWLAB_BUILD_DIR="$root/build-sanitize" \
  ./scripts/build.sh -DFLOWLAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo --target flowlab
test_targets=()
for a in $areas; do test_targets+=("test_$a"); done
cmake --build build-sanitize -j"$jobs" --target "${test_targets[@]}"
built=$(date +%s)
set +e
(cd build-sanitize && OMP_NUM_THREADS=1 ctest --output-on-failure -j"$jobs" -L "$labels" "$@")
rc=$?
set -e
end=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, tests $((end - built)) s (areas: $areas)"
exit $rc
