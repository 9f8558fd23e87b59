#!/usr/bin/env bash
# The device benchmark: one call on a GPU machine (where PyTorch 2.x with CUDA is importable by
# python3, or FLOWLAB_TORCH_PYTHON names such a python). It builds flowlab against that
# LibTorch with the CUDA code paths, runs the test suite (CUDA tests included), then prints:
#   1. moons MLP training steps/s (3 x 256, batch 256): flowlab eager on CUDA against the same loop
#      in PyTorch eager and with torch.compile (scripts/bench/train_throughput.py);
#   2. moons sampling (10^6 points, Heun 50 steps): samples/s without and with sample.cuda_graph;
#   3. DDPM's CIFAR-10 U-Net (35.7 M parameters) training images/s, batch 128, fp32 and bf16,
#      flowlab against PyTorch eager (scripts/bench/unet_bench.py, the same network), with MFU
#      (37 GFLOP per image per step counted from the model, over the GPU's dense bf16 peak,
#      PEAK_TFLOPS, default 989 for H100/H200 SXM); random images stand in for CIFAR-10.
# Environment: OUT (result folder, default /tmp/flowlab-gpu), STEPS (MLP steps, default 3000),
# UNET_STEPS (default 30), SKIP_TESTS=1, PEAK_TFLOPS.
# Without a GPU it stops at once: nothing here is measured on a CPU.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/flowlab-gpu}
mkdir -p "$out"
python=${FLOWLAB_TORCH_PYTHON:-python3}
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
  { echo "gpu.sh: $python has no torch with a usable CUDA device; nothing measured" >&2; exit 1; }
"$python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))' |
  tee "$out/env.txt"
export FLOWLAB_TORCH=python FLOWLAB_TORCH_PYTHON=$(command -v "$python")
extra=()
if ls .deps/*.deb >/dev/null 2>&1; then
  # A GPU machine without Debian's -dev packages: the ones ../shared/device/fetch-debs.sh downloaded
  # (libyaml-cpp-dev libspdlog-dev libfmt-dev libgtest-dev libcli11-dev libstb-dev zlib1g-dev
  # googletest and their libraries), carried in .deps/ and unpacked here, never into /.
  deps=$(mktemp -d)
  for f in .deps/*.deb; do dpkg -x "$f" "$deps"; done
  export FLOWLAB_EXTRA_PREFIX="$deps/usr;$deps/usr/share/cmake"
  export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  extra+=(-DFLOWLAB_GTEST_SOURCE_DIR="$deps/usr/src/googletest")
  # zlib1g-dev's libz.so points at the runtime library, which lives in the system, not in .deps.
  system_libz=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
  [ -n "$system_libz" ] && extra+=(-DZLIB_LIBRARY="$system_libz")
fi
start=$(date +%s)
./scripts/build.sh -DFLOWLAB_USE_CUDA=ON "${extra[@]}" >"$out/build.log" 2>&1 ||
  { grep -E "error" -A4 "$out/build.log" | head -40; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
bin=build-torch2/flowlab
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  (cd build-torch2 && timeout 900 ctest -j4 --output-on-failure >"$out/ctest.log" 2>&1); echo "ctest rc $?"
  grep -E "tests passed|tests failed|\(Failed\)|\(SEGFAULT\)|Skipped" "$out/ctest.log" | head -30
fi

steps=${STEPS:-3000}
echo "== 1. moons MLP 3 x 256, batch 256, $steps steps (rates over the second half), median of 3"
rate() { tail -n 1 "$1/metrics.jsonl" | sed -E 's/.*"steps_per_s": ([0-9.e+-]+).*/\1/'; }
for run in 1 2 3; do
  rm -rf "$out/runs"
  "$bin" train configs/toy/moons.yaml --set run.dir="$out/runs" --set run.name=m --set run.device=cuda \
    --set "model.hidden=[256, 256, 256]" --set train.steps="$steps" --set train.log_every=$((steps / 2)) \
    --set train.eval_every=0 --set train.checkpoint_every=0 >"$out/mlp_train.log" 2>&1
  echo "flowlab_eager $(rate "$out/runs/m")"
  "$python" scripts/bench/train_throughput.py --width 256 --steps "$steps" --device cuda | awk '{print "torch_eager", $2}'
  "$python" scripts/bench/train_throughput.py --width 256 --steps "$steps" --device cuda --compile |
    awk '{print "torch_compile", $2}'
done | tee "$out/mlp.txt"
awk '{v[$1] = v[$1] " " $2} END {for (k in v) print k ":" v[k]}' "$out/mlp.txt"

echo "== 2. moons sampling, 10^6 points, Heun 50 steps"
for graph in false true; do
  "$bin" sample "$out/runs/m" --n 1000000 --solver heun --steps 50 --set sample.batch_size=1000000 \
    --set sample.cuda_graph=$graph --out "$out/s.npy" 2>&1 | grep -E " s$|rejected" | sed "s/^/cuda_graph=$graph: /"
done

echo "== 3. CIFAR-10 U-Net (DDPM), batch 128, random images"
"$python" -c 'import numpy as np; np.save("'"$out"'/images.npy", np.random.default_rng(0).uniform(-1, 1, (2048, 3, 32, 32)).astype(np.float32))'
unet_steps=${UNET_STEPS:-30}
peak=${PEAK_TFLOPS:-989}
for precision in fp32 bf16; do
  rm -rf "$out/runs/u"
  "$bin" train configs/images/cifar10_unet.yaml --set run.dir="$out/runs" --set run.name=u --set run.device=cuda \
    --set "data={type: npy, path: $out/images.npy}" --set train.steps=$((unet_steps * 2)) \
    --set train.log_every="$unet_steps" --set train.checkpoint_every=0 --set train.precision=$precision \
    --set train.schedule.warmup=0 >"$out/unet_$precision.log" 2>&1
  flowlab=$(rate "$out/runs/u")
  flags=(); [ $precision = bf16 ] && flags=(--bf16)
  peer=$("$python" scripts/bench/unet_bench.py --mode train --device cuda --npy "$out/images.npy" --batch 128 \
    --channels 128 --channel-mult 1,2,2,2 --num-res-blocks 2 --attention 16 --no-scale-shift --dropout 0.1 \
    --steps "$unet_steps" --warmup 5 "${flags[@]}" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["images_per_s"])')
  "$python" - "$precision" "$flowlab" "$peer" "$peak" <<'PY'
import sys
precision, steps_per_s, peer, peak = sys.argv[1], float(sys.argv[2] or 0), float(sys.argv[3] or 0), float(sys.argv[4])
images = steps_per_s * 128
mfu = images * 37e9 / (peak * 1e12)
print(f"unet {precision}: flowlab {images:.0f} img/s (MFU {100 * mfu:.1f}% of {peak:.0f} TFLOP/s), "
      f"PyTorch eager {peer:.0f} img/s, ratio {images / peer if peer else float('nan'):.2f}")
PY
done | tee "$out/unet.txt"
