#!/usr/bin/env bash
# Fuzzes flowlab's readers of user-given files with libFuzzer (fuzz/, README "Fuzzing and
# sanitizers"): scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   targets: config npy idx image checkpoint (default: all), 60 s each by default; 0 s only builds.
# Builds with Clang into build-fuzz/ (FLOWLAB_FUZZ=ON: ASan + UBSan, coverage on the library,
# libFuzzer's main on the targets) against Debian's LibTorch, then runs each target on its corpus
# build-fuzz/fuzz-work/TARGET/corpus (the seeds of fuzz/corpus/TARGET plus what earlier runs
# found). Reports the executions per target and any crash/timeout/oom input; exits 1 when one
# was found. Not part of CI. Environment: FLOWLAB_FUZZ_RSS_MB (2048), FLOWLAB_FUZZ_TIMEOUT_S (10),
# FLOWLAB_FUZZ_JOBS (1: parallel libFuzzer workers per target).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
all_targets=(config npy idx image checkpoint)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2; exit 2; }
done
build=$root/build-fuzz
rss_mb=${FLOWLAB_FUZZ_RSS_MB:-2048}
timeout_s=${FLOWLAB_FUZZ_TIMEOUT_S:-10}
jobs=${FLOWLAB_FUZZ_JOBS:-1}

# LibTorch and OpenMP are not built with ASan: their allocations made before main and kept
# (thread pools, registries) read as leaks at exit, so leak checking is off (detect_leaks=0).
# Memory errors inside flowlab (and in stb/yaml-cpp code compiled into it) are still caught.
# UBSan findings stop the run (halt_on_error) so libFuzzer keeps the input; the suppressions
# name only code outside flowlab (scripts/sanitizers/ubsan.supp, with reasons).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:symbolize=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=$root/scripts/sanitizers/ubsan.supp:${UBSAN_OPTIONS:-}"

# The gtest discovery that a test build runs is not needed: tests off.
env -u OMP_NUM_THREADS FLOWLAB_TORCH=debian FLOWLAB_BUILD_DIR="$build" CC=clang CXX=clang++ \
  ./scripts/build.sh -DFLOWLAB_FUZZ=ON -DFLOWLAB_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo --target flowlab_core
fuzz_targets=()
for t in "${targets[@]}"; do fuzz_targets+=("fuzz_$t"); done
cmake --build "$build" -j"$(env -u OMP_NUM_THREADS nproc 2>/dev/null || echo 2)" --target "${fuzz_targets[@]}"
[ "$seconds" -gt 0 ] || { echo "fuzz.sh: built ${fuzz_targets[*]} (0 seconds: nothing run)"; exit 0; }

export OMP_NUM_THREADS=1  # the targets: one thread, as libFuzzer runs them one input at a time
status=0
summary=()
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  mkdir -p "$work/corpus" "$work/findings"
  cp -n "$root/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
  log=$work/last.log
  echo "fuzz.sh: $t for ${seconds}s (log $log)"
  before=$(ls "$work/findings" | sort)
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
  rm -f "$work"/fuzz-*.log
  set +e
  (cd "$work" && "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$timeout_s" \
     -artifact_prefix="$work/findings/" -print_final_stats=1 "${parallel[@]}" corpus) >"$log" 2>&1
  rc=$?
  set -e
  execs=$( (cat "$log" "$work"/fuzz-*.log 2>/dev/null || true) | grep -o 'stat::number_of_executed_units: *[0-9]*' |
          awk '{s += $2} END {print s + 0}' || true)
  findings=$(comm -13 <(echo "$before") <(ls "$work/findings" | sort) | sed "s|^|$work/findings/|" | tr '\n' ' ')
  if [ "$rc" -ne 0 ] || [ -n "$findings" ]; then
    status=1
    summary+=("$t: ${execs} executions in ${seconds}s, exit $rc, FINDINGS: ${findings:-see $log}")
  else
    summary+=("$t: ${execs} executions in ${seconds}s, corpus $(ls "$work/corpus" | wc -l) inputs, no findings")
  fi
done
echo "fuzz.sh: summary"
printf '  %s\n' "${summary[@]}"
exit $status
