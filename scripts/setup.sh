#!/usr/bin/env bash
# Installs the Debian packages flowlab needs (idempotent; as root or through sudo)
# and makes sure LibTorch runs on OpenBLAS, not the ~6x slower reference BLAS.
# FLOWLAB_TORCH=python also installs PyTorch $FLOWLAB_TORCH_VERSION (2.x, with CUDA) from PyPI into
# .venv-torch, unless FLOWLAB_TORCH_PYTHON names a python with a torch >= 2 (scripts/torch_env.sh).
set -euo pipefail
source "$(dirname "$0")/torch_env.sh"

packages=(
  build-essential cmake ninja-build ccache
  libtorch-dev libopenblas0-openmp libgloo-dev
  libyaml-cpp-dev libspdlog-dev libgtest-dev libgmock-dev libcli11-dev zlib1g-dev libstb-dev
  pkg-config libcairo2-dev fonts-dejavu-core
  dataset-fashion-mnist
  python3-torch python3-numpy python3-scipy python3-pot python3-venv
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch links libblas.so.3; the alternative must point at OpenBLAS.
alt=libblas.so.3-x86_64-linux-gnu
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$openblas" ]; then
  current=$(update-alternatives --query "$alt" 2>/dev/null | awk '/^Value:/ {print $2}')
  if [ "$current" != "$openblas" ]; then
    echo "setup: pointing $alt at OpenBLAS (was ${current:-unset})"
    as_root update-alternatives --set "$alt" "$openblas"
  fi
else
  echo "setup: warning: $openblas is missing; LibTorch will use a slow BLAS" >&2
fi

# Python peers for benchmarks and oracles (torchcfm, torchdiffeq) in a project-local
# virtual environment over Debian's torch, numpy, scipy and POT: --no-deps keeps pip
# from pulling a second torch. Benchmarks use it; the tests do not need it.
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv"
peers=(torchcfm==1.0.7 torchdiffeq==0.2.5)
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torchcfm, torchdiffeq" 2>/dev/null; then
  echo "setup: creating $venv with ${peers[*]}"
  if ! { /usr/bin/python3 -m venv --system-site-packages "$venv" &&
         "$venv/bin/pip" install -q --no-deps "${peers[@]}"; }; then
    echo "setup: warning: could not create $venv (the peer benchmarks need it)" >&2
  fi
fi

# The second LibTorch: PyTorch 2.x from PyPI (its LibTorch, CUDA libraries and CMake package) in
# its own environment, apart from Debian's torch 1.13 that .venv reuses. About 5 GB.
if [ "$FLOWLAB_TORCH" = python ]; then
  major=$(flowlab_torch_major "$FLOWLAB_TORCH_PYTHON")
  if [ -z "$major" ] || [ "$major" -lt 2 ]; then
    if [ "$FLOWLAB_TORCH_PYTHON" != "$flowlab_root/.venv-torch/bin/python" ]; then
      echo "setup: $FLOWLAB_TORCH_PYTHON imports no torch >= 2 (FLOWLAB_TORCH_PYTHON)" >&2
      exit 1
    fi
    echo "setup: installing torch==$FLOWLAB_TORCH_VERSION from PyPI into $flowlab_root/.venv-torch"
    [ -x "$flowlab_root/.venv-torch/bin/python" ] || /usr/bin/python3 -m venv "$flowlab_root/.venv-torch"
    "$flowlab_root/.venv-torch/bin/pip" install -q --disable-pip-version-check "torch==$FLOWLAB_TORCH_VERSION"
  fi
  "$FLOWLAB_TORCH_PYTHON" -c 'import torch; print("setup: LibTorch", torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null | tail -n 1
fi
