#!/usr/bin/env bash
# Builds flowlab against the LibTorch of a PyTorch 2.x install with the CUDA code paths compiled,
# installs it (`cmake --install`) and checks the installed binary (--version, a 20-step CPU
# training run and a sample from it). The Dockerfile's build step is this script, and CI's second
# lane runs it too (scripts/test.sh, on .venv-torch's wheel, in build-torch2/), so the image's build
# steps are checked on every CI run without Docker.
#   FLOWLAB_TORCH_PYTHON  the python whose torch is built against (default: .venv-torch's, see
#                         scripts/torch_env.sh; the Dockerfile passes the image's python3)
#   FLOWLAB_BUILD_DIR     the build directory (default: build-docker/)
#   FLOWLAB_PREFIX        the install prefix (default: /usr/local)
# Other arguments go to scripts/build.sh (CMake options).
set -euo pipefail
cd "$(dirname "$0")/.."
export FLOWLAB_TORCH=python
export FLOWLAB_BUILD_DIR="${FLOWLAB_BUILD_DIR:-$PWD/build-docker}"
source scripts/torch_env.sh
prefix="${FLOWLAB_PREFIX:-/usr/local}"
"$FLOWLAB_TORCH_PYTHON" -c 'import torch' 2>/dev/null ||
  { echo "docker_build.sh: $FLOWLAB_TORCH_PYTHON imports no torch" >&2; exit 1; }

# The installed binary keeps the wheel's LibTorch directory in its RPATH (CMakeLists.txt).
./scripts/build.sh -DFLOWLAB_USE_CUDA=ON "$@"
cmake --install "$FLOWLAB_BUILD_DIR" --prefix "$prefix" >/dev/null
echo "docker_build.sh: installed into $prefix"

# Smoke check of the installed tree, on the CPU (the image is built without a GPU).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flowlab="$prefix/bin/flowlab"
"$flowlab" --version
if ! "$flowlab" train configs/toy/moons.yaml --set run.dir="$work" run.name=smoke run.device=cpu run.threads=1 \
     train.steps=20 train.eval_every=0 train.log_every=20 train.checkpoint_every=20 >"$work/train.log" 2>&1 ||
   ! "$flowlab" sample "$work/smoke" --n 64 --steps 4 --out "$work/samples.npy" >"$work/sample.log" 2>&1; then
  cat "$work"/*.log >&2
  echo "docker_build.sh: the installed flowlab failed its smoke check" >&2
  exit 1
fi
test -s "$work/samples.npy"
echo "docker_build.sh: smoke check passed (train 20 steps on the CPU, sample 64 points)"
