#!/usr/bin/env bash
# Installs the Debian packages flowlab needs (idempotent; as root or through sudo)
# and makes sure LibTorch runs on OpenBLAS, not the ~6x slower reference BLAS.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache
  libtorch-dev libopenblas0-openmp
  libyaml-cpp-dev libspdlog-dev libgtest-dev libgmock-dev libcli11-dev zlib1g-dev libstb-dev
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
