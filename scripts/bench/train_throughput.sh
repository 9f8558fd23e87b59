#!/usr/bin/env bash
# Training throughput: flowlab against the same loop in Python PyTorch on the
# same LibTorch, side by side, at MLP widths 64 and 256 (moons, batch 256).
# Prints steps/s of each, the ratio, and the GEMM floor (FLOPs per step divided
# by the measured GEMM rate of the step's main shape).
# Usage: scripts/bench/train_throughput.sh [STEPS] [THREADS] [DEVICE]
# Environment: FLOWLAB (the binary, default build/flowlab), PYTHON (default /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-2000}
threads=${2:-$(nproc)}
device=${3:-cpu}
flowlab=${FLOWLAB:-build/flowlab}
python=${PYTHON:-/usr/bin/python3}
[ -x "$flowlab" ] || ./scripts/build.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "device $device, threads $threads, $steps steps (rates over the second half)"
printf "%-6s %12s %12s %8s %14s\n" width flowlab_it/s python_it/s ratio gemm_floor_it/s
for width in 64 256; do
  "$flowlab" train configs/toy/moons.yaml --set run.dir="$out" --set run.name=w$width \
    --set run.threads="$threads" --set run.device="$device" --set "model.hidden=[$width, $width, $width]" --set train.steps="$steps" \
    --set train.log_every=$((steps / 2)) --set train.eval_every=0 --set train.checkpoint_every=0 >/dev/null 2>&1
  # The second log line times the second half of the run, as the Python peer does.
  flowlab_rate=$(tail -n 1 "$out/w$width/metrics.jsonl" | sed -E 's/.*"steps_per_s": ([0-9.e+-]+).*/\1/')
  read -r _ python_rate _ floor < <("$python" scripts/bench/train_throughput.py \
    --width "$width" --steps "$steps" --threads "$threads" --device "$device")
  ratio=$("$python" -c "print(f'{$flowlab_rate / $python_rate:.2f}')")
  printf "%-6s %12.1f %12.1f %8s %14.1f\n" "$width" "$flowlab_rate" "$python_rate" "$ratio" "$floor"
done
