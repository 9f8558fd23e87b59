#!/usr/bin/env bash
# Training throughput: flowlab against the same loop in Python PyTorch on the same
# LibTorch, side by side, at MLP widths 64 and 256 (moons, batch 256), interleaved.
# Prints the median steps/s of each over REPEATS runs (rates over the second half of
# each run), the ratio of the medians, each side's range, and the GEMM floor (FLOPs per
# step divided by the measured GEMM rate of the step's main shape; median of the
# Python side's measurements).
# Usage: scripts/bench/train_throughput.sh [-n REPEATS] [STEPS] [THREADS] [DEVICE]
#   THREADS: both sides' intra-op threads; "default" leaves each side its own default
#   (flowlab: every available core; Python: torch's default).
# Environment: FLOWLAB (the binary, default build/flowlab), PYTHON (default /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=3
while getopts "n:" opt; do
  case $opt in
    n) repeats=$OPTARG ;;
    *) echo "usage: $0 [-n REPEATS] [STEPS] [THREADS] [DEVICE]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
steps=${1:-2000}
threads=${2:-$(nproc)}
device=${3:-cpu}
flowlab=${FLOWLAB:-build/flowlab}
python=${PYTHON:-/usr/bin/python3}
[ -x "$flowlab" ] || ./scripts/build.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flowlab_threads=(--set run.threads="$threads")
python_threads=(--threads "$threads")
if [ "$threads" = default ]; then
  flowlab_threads=()
  python_threads=()
fi
echo "device $device, threads $threads, $steps steps (rates over the second half), $repeats interleaved runs"
printf "%-6s %12s %12s %8s %19s %19s %14s\n" width flowlab_it/s python_it/s ratio flowlab_range python_range gemm_floor_it/s
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f-%.0f", lo, hi}'; }
for width in 64 256; do
  : >"$out/flowlab" && : >"$out/python" && : >"$out/floor"
  for ((r = 0; r < repeats; ++r)); do
    rm -rf "${out:?}/w$width"
    "$flowlab" train configs/toy/moons.yaml --set run.dir="$out" --set run.name=w$width \
      "${flowlab_threads[@]}" --set run.device="$device" --set "model.hidden=[$width, $width, $width]" \
      --set train.steps="$steps" --set train.log_every=$((steps / 2)) --set train.eval_every=0 \
      --set train.checkpoint_every=0 >/dev/null 2>&1
    # The second log line times the second half of the run, as the Python peer does.
    tail -n 1 "$out/w$width/metrics.jsonl" | sed -E 's/.*"steps_per_s": ([0-9.e+-]+).*/\1/' >>"$out/flowlab"
    read -r _ python_rate _ floor < <("$python" scripts/bench/train_throughput.py \
      --width "$width" --steps "$steps" "${python_threads[@]}" --device "$device")
    echo "$python_rate" >>"$out/python"
    echo "$floor" >>"$out/floor"
  done
  flowlab_rate=$(median <"$out/flowlab")
  python_rate=$(median <"$out/python")
  ratio=$("$python" -c "print(f'{$flowlab_rate / $python_rate:.2f}')")
  printf "%-6s %12.1f %12.1f %8s %19s %19s %14.1f\n" "$width" "$flowlab_rate" "$python_rate" "$ratio" \
    "$(range <"$out/flowlab")" "$(range <"$out/python")" "$(median <"$out/floor")"
done
