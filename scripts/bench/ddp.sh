#!/usr/bin/env bash
# Data-parallel scaling: steps/s of one process against N processes (Gloo on the CPU, one
# thread each), with the same batch per process (weak scaling: N processes train N times the
# samples per step), interleaved runs, medians. Efficiency = rate(N) / rate(1). Overlap: the
# same N-process run with the gradient buckets summed while backward runs (overlap: true)
# and after it (false); hidden = the share of the communication time that overlap hides,
# (t_after - t_overlap) / (t_after - t_one).
# Model: an MLP of 4 hidden layers of WIDTH on moons (flow matching), 3.2 M parameters at 1024.
# The peer: PyTorch's DistributedDataParallel on the same step (scripts/bench/ddp_peer.py, Gloo,
# DDP's defaults) under torchrun, interleaved with flowlab's runs; its efficiency is measured
# the same way. With CUDA GPUs (nvidia-smi), also 1..N GPUs over NCCL, one process each (torchrun).
# Usage: scripts/bench/ddp.sh [-n REPEATS] [STEPS] [WIDTH] [BATCH_PER_PROCESS] [PROCESSES]
# Environment: FLOWLAB (default build/flowlab), TORCHRUN (default /usr/bin/torchrun: Debian's,
# whose torch is the peer).
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=3
while getopts "n:" opt; do
  case $opt in
    n) repeats=$OPTARG ;;
    *) echo "usage: $0 [-n REPEATS] [STEPS] [WIDTH] [BATCH_PER_PROCESS] [PROCESSES]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
steps=${1:-200}
width=${2:-1024}
batch=${3:-256}
procs=${4:-2}
flowlab=${FLOWLAB:-build/flowlab}
[ -x "$flowlab" ] || ./scripts/build.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cores=$(nproc --all)
export OMP_NUM_THREADS=1
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}'; }
torchrun=${TORCHRUN:-/usr/bin/torchrun}
# torchrun 1.13 under Python 3.11 needs --redirects/--tee other than 0 (see README).
peer() {
  "$torchrun" --redirects 2 --tee 2 --log_dir "$out/peer_logs_$RANDOM" --nproc_per_node "$1" \
    --master_port $((29500 + RANDOM % 20000)) scripts/bench/ddp_peer.py --width "$width" --batch "$batch" \
    --steps "$steps" 2>/dev/null | grep -E '^[0-9.]+$'
}
rate_of() { tail -n 1 "$1/metrics.jsonl" | sed -E 's/.*"steps_per_s": ([0-9.e+-]+).*/\1/'; }

# One run of NAME in P processes at device DEVICE; extra --set options follow.
train() {
  local name=$1 p=$2 device=$3
  shift 3
  rm -rf "${out:?}/$name"
  local args=(train configs/toy/moons.yaml --set run.dir="$out" --set run.name="$name" --set run.threads=1
    --set run.device="$device" --set "model.hidden=[$width, $width, $width, $width]"
    --set train.batch_size=$((batch * p)) --set train.steps="$steps" --set train.log_every=$((steps / 2))
    --set train.eval_every=0 --set train.checkpoint_every=0 --set train.data_parallel.timeout_s=300 "$@")
  if [ "$p" -eq 1 ]; then
    "$flowlab" "${args[@]}" >"$out/$name.log" 2>&1
  else
    local port=$((29500 + RANDOM % 20000)) pids=()
    for ((r = 0; r < p; ++r)); do
      RANK=$r WORLD_SIZE=$p LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        "$flowlab" "${args[@]}" >"$out/$name.$r.log" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
  fi
  rate_of "$out/$name"
}

echo "CPU $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), Gloo, 1 thread per process"
echo "MLP 4 x $width on moons, batch $batch per process, $steps steps (rates over the second half), $repeats interleaved runs"
: >"$out/rate_one" && : >"$out/rate_overlap" && : >"$out/rate_after" && : >"$out/rate_peer1" && : >"$out/rate_peerN"
for ((k = 0; k < repeats; ++k)); do
  train one 1 cpu >>"$out/rate_one"
  train overlap "$procs" cpu --set train.data_parallel.overlap=true >>"$out/rate_overlap"
  train after "$procs" cpu --set train.data_parallel.overlap=false >>"$out/rate_after"
  peer 1 >>"$out/rate_peer1"
  peer "$procs" >>"$out/rate_peerN"
done
one=$(median <"$out/rate_one")
overlap=$(median <"$out/rate_overlap")
after=$(median <"$out/rate_after")
printf "%-28s %10s %14s %12s\n" run steps/s range efficiency
printf "%-28s %10.2f %14s %12s\n" "1 process" "$one" "$(range <"$out/rate_one")" 1.00
for kind in overlap after; do
  rate=$(median <"$out/rate_$kind")
  printf "%-28s %10.2f %14s %12.2f\n" "$procs processes ($kind)" "$rate" "$(range <"$out/rate_$kind")" \
    "$(python3 -c "print($rate / $one)")"
done
peer1=$(median <"$out/rate_peer1")
peerN=$(median <"$out/rate_peerN")
printf "%-28s %10.2f %14s %12s\n" "PyTorch DDP, 1 process" "$peer1" "$(range <"$out/rate_peer1")" 1.00
printf "%-28s %10.2f %14s %12.2f\n" "PyTorch DDP, $procs processes" "$peerN" "$(range <"$out/rate_peerN")" \
  "$(python3 -c "print($peerN / $peer1)")"
echo "flowlab / PyTorch DDP at $procs processes: $(python3 -c "print(f'{$overlap / $peerN:.2f}')")x"
# The floor: Gloo's all-reduce of this many gradients alone (PyTorch, same processes and machine).
read -r floor_ms floor_mb < <("$torchrun" --redirects 2 --tee 2 --log_dir "$out/floor_logs" --nproc_per_node "$procs" \
  --master_port $((29500 + RANDOM % 20000)) scripts/bench/ddp_peer.py --width "$width" --allreduce-only 2>/dev/null |
  grep -E '^[0-9.]+ [0-9.]+$')
echo "Gloo all-reduce of $floor_mb MB alone: $floor_ms ms (median of 20); with communication not hidden the" \
  "efficiency cannot pass $(python3 -c "print(f'{1 / (1 + $floor_ms * $one / 1e3):.2f}')")"
python3 - "$one" "$overlap" "$after" <<'PY'
import sys
one, overlap, after = (1 / float(v) for v in sys.argv[1:])
comm = after - one
print(f"ms/step: 1 process {one * 1e3:.1f}, overlapped {overlap * 1e3:.1f}, after backward {after * 1e3:.1f}; "
      f"communication {comm * 1e3:.1f} ms/step, hidden by overlap {100 * (after - overlap) / comm:.0f}%"
      if comm > 0 else f"ms/step: 1 process {one * 1e3:.1f}, overlapped {overlap * 1e3:.1f}, after {after * 1e3:.1f}")
PY

# GPUs over NCCL, one process per GPU through torchrun, when there are several.
gpus=$(nvidia-smi -L 2>/dev/null | wc -l || true)
if [ "${gpus:-0}" -ge 2 ]; then
  echo "NCCL on $gpus GPUs ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)), batch $batch per GPU"
  printf "%-8s %10s %12s\n" gpus steps/s efficiency
  base=""
  for ((g = 1; g <= gpus; g *= 2)); do
    rm -rf "${out:?}/gpu$g"
    "$torchrun" --nproc_per_node "$g" --no_python "$flowlab" train configs/toy/moons.yaml --set run.dir="$out" \
      --set run.name="gpu$g" --set run.device=cuda --set "model.hidden=[$width, $width, $width, $width]" \
      --set train.batch_size=$((batch * g)) --set train.steps="$steps" --set train.log_every=$((steps / 2)) \
      --set train.eval_every=0 --set train.checkpoint_every=0 >"$out/gpu$g.log" 2>&1
    rate=$(rate_of "$out/gpu$g")
    base=${base:-$rate}
    printf "%-8s %10.2f %12.2f\n" "$g" "$rate" "$(python3 -c "print($rate / $base)")"
  done
fi
