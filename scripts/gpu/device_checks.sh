#!/usr/bin/env bash
# One call on a GPU machine: build flowlab against the PyTorch 2.x LibTorch with
# CUDA, run the test suite (run.device: auto picks the GPU), a moons run on
# device: cuda, and the training-throughput benchmark on the GPU.
# Prepare on the development machine first (downloads Debian packages into .deps/):
#   ../shared/device/fetch-debs.sh libcli11-dev libstb-dev zlib1g-dev googletest
# then carry .deps to the GPU machine and run this script from the repository root.
set -uo pipefail
out=${OUT:-/tmp/flowlab-gpu}
mkdir -p "$out"
deps=$(mktemp -d)
for f in .deps/*.deb; do dpkg -x "$f" "$deps"; done
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_lib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:$torch_lib:${LD_LIBRARY_PATH:-}"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/env.txt"
# zlib1g-dev's libz.so points at the runtime library, which lives in the system, not in .deps.
zlib=(); system_libz=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
[ -n "$system_libz" ] && zlib=(-DZLIB_LIBRARY="$system_libz")
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
start=$(date +%s)
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DFLOWLAB_USE_CUDA=ON -DFLOWLAB_PCH=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr;$deps/usr/share/cmake" -DFLOWLAB_PYTHON="$(command -v python3)" \
  -DFLOWLAB_GTEST_SOURCE_DIR="$deps/usr/src/googletest" "${zlib[@]}" >"$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; exit 1; }
cmake --build build-gpu -j"$(nproc)" >"$out/build.log" 2>&1 || { grep -E "error" -A4 "$out/build.log" | head -60; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
(cd build-gpu && timeout 300 ctest -j4 --output-on-failure >"$out/ctest.log" 2>&1); echo "ctest rc $?"
grep -E "tests passed|Failed|\*\*\*" "$out/ctest.log" | head -30
rm -rf /tmp/gpu-runs
timeout 120 ./build-gpu/flowlab train configs/toy/moons.yaml --set run.dir=/tmp/gpu-runs --set run.device=cuda \
  --set train.steps=4000 --set train.eval_every=2000 --set train.log_every=1000 >"$out/train.log" 2>&1; echo "train rc $?"
tail -6 "$out/train.log"
timeout 60 ./build-gpu/flowlab eval /tmp/gpu-runs/moons --json "$out/eval.json" 2>&1 | tail -5
timeout 60 ./build-gpu/flowlab sample /tmp/gpu-runs/moons --solver dopri5 --plot "$out/samples.png" 2>&1 | tail -3
FLOWLAB=build-gpu/flowlab PYTHON=python3 timeout 150 ./scripts/bench/train_throughput.sh 2000 8 cuda 2>&1 | tee "$out/bench.txt"
