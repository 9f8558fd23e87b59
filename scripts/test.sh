#!/usr/bin/env bash
# The test command (CI runs it through .ci/run). Installs what is missing, builds against
# Debian's LibTorch 1.13 and runs every test through ctest (arguments go to that ctest); then
# builds flowlab and its tests against PyTorch 2.x's LibTorch with the CUDA code paths compiled
# (FLOWLAB_TORCH=python, no GPU needed), so that a 2.x-only or CUDA-only compile error fails too,
# and runs there the tests of code that differs between the two LibTorch versions.
# FLOWLAB_LANES=debian skips the second build (it installs about 5 GB into .venv-torch once).
# `scripts/test.sh --sanitize [CTEST ARGS]` instead runs the ASan/UBSan lane (scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --sanitize ]; then
  shift
  exec ./scripts/sanitize.sh "$@"
fi
jobs=$(nproc 2>/dev/null || echo 2)
FLOWLAB_TORCH=debian ./scripts/setup.sh
FLOWLAB_TORCH=debian ./scripts/build.sh
(cd build && ctest --output-on-failure -j"$jobs" "$@")

if [ "${FLOWLAB_LANES:-all}" != debian ]; then
  echo "test.sh: second lane: PyTorch 2.x LibTorch with CUDA code paths"
  FLOWLAB_TORCH=python ./scripts/setup.sh
  # The Dockerfile's build steps (build with -DFLOWLAB_USE_CUDA=ON, cmake --install, a smoke run of
  # the installed binary), on the wheel's LibTorch in build-torch2/.
  FLOWLAB_BUILD_DIR="$PWD/build-torch2" FLOWLAB_PREFIX="$PWD/build-torch2/install" ./scripts/docker_build.sh
  # The tests of code that differs between LibTorch versions, on the CPU.
  (cd build-torch2 && ctest --output-on-failure -j"$jobs" \
    -R 'Checkpoint|ConditionalCli|Cli\.(ResumeContinuesExactly|NanLoss)|Precision|FlatParameters|Optimizer|GraphedSolve|FixedStep|ProcessGroup|GradientReducer|LaunchEnvironment|DataParallelCli\.(TwoProcesses|Resumed|Killing|RealTorchrun|SampleAndEval)|Export\.(MlpOfMoons|ConditionalUNet)')
fi
