#!/usr/bin/env bash
# Installs the Debian packages flowlab needs (idempotent; as root or through sudo)
# and makes sure LibTorch runs on OpenBLAS, not the ~6x slower reference BLAS.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache
  libtorch-dev libopenblas0-openmp
  libyaml-cpp-dev libspdlog-dev libgtest-dev libgmock-dev libcli11-dev zlib1g-dev libstb-dev
  dataset-fashion-mnist
  python3-torch python3-numpy python3-scipy python3-pot
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
