# Sourced by setup.sh and build.sh: which LibTorch flowlab builds against.
#   FLOWLAB_TORCH=debian   Debian's libtorch-dev (1.13, CPU): the default
#   FLOWLAB_TORCH=python   the LibTorch inside a PyTorch 2.x install: FLOWLAB_TORCH_PYTHON's torch, else
#                          .venv-torch (setup.sh installs torch==$FLOWLAB_TORCH_VERSION from PyPI there)
#   unset                  python when `python3` on PATH imports a torch >= 2 (a GPU machine with
#                          PyTorch installed), debian otherwise
# Sets FLOWLAB_TORCH, FLOWLAB_TORCH_VERSION, FLOWLAB_BUILD_DIR (build/ or build-torch2/) and, for
# python, FLOWLAB_TORCH_PYTHON and flowlab_torch_prefix() (the CMAKE_PREFIX_PATH entries).
flowlab_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${FLOWLAB_TORCH_VERSION:=2.15.0}"

# The major version of the torch that python "$1" imports (empty when none).
flowlab_torch_major() {
  "$1" -c 'import torch; print(torch.__version__.split(".")[0])' 2>/dev/null | tail -n 1 || true
}

if [ -z "${FLOWLAB_TORCH:-}" ]; then
  FLOWLAB_TORCH=debian
  if [ -z "${FLOWLAB_TORCH_PYTHON:-}" ] && command -v python3 >/dev/null; then
    major=$(flowlab_torch_major python3)
    if [ -n "$major" ] && [ "$major" -ge 2 ]; then
      FLOWLAB_TORCH=python
      FLOWLAB_TORCH_PYTHON=$(command -v python3)
    fi
  fi
fi
case "$FLOWLAB_TORCH" in
  debian) : "${FLOWLAB_BUILD_DIR:=$flowlab_root/build}" ;;
  python)
    : "${FLOWLAB_TORCH_PYTHON:=$flowlab_root/.venv-torch/bin/python}"
    : "${FLOWLAB_BUILD_DIR:=$flowlab_root/build-torch2}"
    ;;
  *) echo "FLOWLAB_TORCH must be debian or python, not '$FLOWLAB_TORCH'" >&2; exit 2 ;;
esac
export FLOWLAB_TORCH FLOWLAB_TORCH_VERSION FLOWLAB_BUILD_DIR
[ "$FLOWLAB_TORCH" = python ] && export FLOWLAB_TORCH_PYTHON

# CMAKE_PREFIX_PATH for the python torch: its CMake package, and the torch folder itself so
# find_library takes its lib/ before Debian's libtorch (both may be installed).
flowlab_torch_prefix() {
  "$FLOWLAB_TORCH_PYTHON" -c 'import os, torch; print(torch.utils.cmake_prefix_path + ";" + os.path.dirname(torch.__file__))' 2>/dev/null | tail -n 1 || true
}
