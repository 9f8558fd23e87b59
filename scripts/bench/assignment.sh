#!/usr/bin/env bash
# flowlab::ot::optimal_assignment against SciPy's linear_sum_assignment and POT's ot.emd,
# one thread, on the same random costs (see assignment.py for the costs and the table).
#   scripts/bench/assignment.sh [-n REPEATS] [--rev REV]... [ASSIGNMENT.PY OPTIONS] [SIZES...]
# Each --rev (default: the working tree) has its src/ot/assignment.cpp compiled, Release
# (-O3), with this tree's headers, src/ot/ground_cost.cpp and assignment_bench.cpp, against
# the LibTorch of build/ (its Torch_DIR) or the system's; so `--rev HEAD~1 --rev WORKTREE`
# times an old solver next to the new one. Sizes default to 64 256 1024; medians of
# REPEATS (default 7) calls. Other options (--dim D, --kind uniform, --rectangular) go to
# assignment.py. FLOWLAB_PYTHON picks the Python (default /usr/bin/python3: numpy, scipy, pot).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
repeats=7
revs=()
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) repeats="$2"; shift 2 ;;
    --rev) revs+=("$2"); shift 2 ;;
    *) rest+=("$1"); shift ;;
  esac
done
[ ${#revs[@]} -gt 0 ] || revs=(WORKTREE)
python=${FLOWLAB_PYTHON:-/usr/bin/python3}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
torch_dir=$(sed -n 's/^Torch_DIR:PATH=//p' "$repo/build/CMakeCache.txt" 2>/dev/null || true)
launcher=$(command -v ccache || true)
binaries=()
for rev in "${revs[@]}"; do
  name=$rev
  dir="$work/$(echo "$rev" | tr -c 'A-Za-z0-9_.\n-' '_')"
  mkdir -p "$dir"
  if [ "$rev" = WORKTREE ]; then
    name=worktree
    cp "$repo/src/ot/assignment.cpp" "$dir/assignment.cpp"
  else
    git -C "$repo" show "$rev:src/ot/assignment.cpp" > "$dir/assignment.cpp"
  fi
  cat > "$dir/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(assignment_bench LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(Torch REQUIRED)
add_executable(assignment_bench "$repo/scripts/bench/assignment_bench.cpp" "$dir/assignment.cpp" "$repo/src/ot/ground_cost.cpp")
target_include_directories(assignment_bench PRIVATE "$repo/include")
target_link_libraries(assignment_bench \${TORCH_LIBRARIES})
CMAKE
  echo "building the timing binary for $name" >&2
  cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release ${torch_dir:+-DTorch_DIR="$torch_dir"} \
    ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} >/dev/null
  cmake --build "$dir/build" -j1 >/dev/null
  binaries+=(--binary "$name=$dir/build/assignment_bench")
done
"$python" "$repo/scripts/bench/assignment.py" --repeats "$repeats" "${binaries[@]}" ${rest[@]+"${rest[@]}"}
