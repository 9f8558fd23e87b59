#!/usr/bin/env bash
# Clean-build times of commits, interleaved: for each repetition, each commit is cloned afresh,
# configured (Release, Ninja, ccache off) and built; the time of `--target flowlab` (the
# executable) and then of the rest (tests) is printed, and the median of each at the end.
#   scripts/bench/build_time.sh [-n REPEATS] [--all] COMMIT...
# Default: 3 repetitions, the executable only (--all also builds and times the tests).
set -euo pipefail
repeats=3
all=0
commits=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) repeats="$2"; shift 2 ;;
    --all) all=1; shift ;;
    *) commits+=("$1"); shift ;;
  esac
done
[ ${#commits[@]} -gt 0 ] || { echo "usage: build_time.sh [-n REPEATS] [--all] COMMIT..." >&2; exit 2; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A exe rest
seconds() { local start=$1; echo "$(( $(date +%s%N) - start ))" | awk '{printf "%.1f", $1 / 1e9}'; }
for ((r = 1; r <= repeats; ++r)); do
  for c in "${commits[@]}"; do
    dir="$work/$c"
    rm -rf "$dir"
    git clone -q "$repo" "$dir"
    git -C "$dir" checkout -q "$c"
    cmake -S "$dir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER= \
      -DFLOWLAB_BUILD_TESTS=$([ $all = 1 ] && echo ON || echo OFF) >/dev/null
    start=$(date +%s%N)
    cmake --build "$dir/build" -j"$jobs" --target flowlab >/dev/null
    e=$(seconds "$start")
    exe[$c]+="$e "
    line="run $r, $c: flowlab ${e} s"
    if [ $all = 1 ]; then
      start=$(date +%s%N)
      cmake --build "$dir/build" -j"$jobs" >/dev/null
      t=$(seconds "$start")
      rest[$c]+="$t "
      line+=", then the tests ${t} s"
    fi
    echo "$line"
    rm -rf "$dir"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "medians over $repeats interleaved clean builds, $jobs jobs, ccache off ($(nproc) cores):"
for c in "${commits[@]}"; do
  line="  $c: flowlab $(echo "${exe[$c]}" | median) s"
  [ $all = 1 ] && line+=", tests $(echo "${rest[$c]}" | median) s"
  echo "$line"
done
