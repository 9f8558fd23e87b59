#!/usr/bin/env bash
# Configures and builds flowlab (Release) against the LibTorch scripts/torch_env.sh picks:
# Debian's into build/, a PyTorch 2.x's (FLOWLAB_TORCH=python) into build-torch2/ (FLOWLAB_BUILD_DIR
# overrides). `--target T` builds only T (e.g. flowlab, the executable); other arguments go to
# CMake (e.g. -DFLOWLAB_UNITY=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch_env.sh
jobs=$(nproc 2>/dev/null || echo 2)
target=()
cmake_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target)
      [ $# -ge 2 ] || { echo "build.sh: --target needs a target name" >&2; exit 2; }
      target=(--target "$2")
      shift 2
      ;;
    *)
      cmake_args+=("$1")
      shift
      ;;
  esac
done
if [ "$FLOWLAB_TORCH" = python ]; then
  prefix=$(flowlab_torch_prefix)
  [ -n "$prefix" ] || { echo "build.sh: $FLOWLAB_TORCH_PYTHON imports no torch (run FLOWLAB_TORCH=python scripts/setup.sh)" >&2; exit 1; }
  # FLOWLAB_EXTRA_PREFIX: more CMake prefixes (e.g. Debian packages unpacked on a GPU machine).
  cmake_args=(-DCMAKE_PREFIX_PATH="$prefix${FLOWLAB_EXTRA_PREFIX:+;$FLOWLAB_EXTRA_PREFIX}" "${cmake_args[@]}")
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$FLOWLAB_BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}" >/dev/null
cmake --build "$FLOWLAB_BUILD_DIR" -j"$jobs" "${target[@]}"
