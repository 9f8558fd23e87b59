#!/usr/bin/env bash
# U-Net speed, side by side: flowlab (`model.type: unet`) against the same network in Python
# PyTorch eager (scripts/bench/unet_peer.py, timed by scripts/bench/unet_bench.py), for
# conditional-OT flow-matching training and Euler sampling on Fashion-MNIST [B, 1, 28, 28].
#
# Usage: scripts/bench/unet_speed.sh [-n REPEATS] [-t THREADS] [-s STEPS] [-l LOG_EVERY] [-b BATCH]
#                                    [-k SAMPLE_STEPS] [-N SAMPLE_N] [-c NUM_CLASSES]
#   -n REPEATS      interleaved repeats of every run (default 3)
#   -t THREADS      intra-op threads of every run: OMP_NUM_THREADS, MKL_NUM_THREADS, flowlab run.threads,
#                   unet_bench.py --threads, and the matmul rate of the floor (default 1)
#   -s STEPS        training steps per run, warm-up included (default 60)
#   -l LOG_EVERY    flowlab train.log_every, which is also the warm-up: the rate is the median steps_per_s of
#                   the metrics.jsonl lines after the first; Python runs LOG_EVERY untimed + STEPS-LOG_EVERY
#                   timed steps (default 10; STEPS >= 2 LOG_EVERY)
#   -b BATCH        train.batch_size, sample.batch_size and Python --batch (default 64)
#   -k SAMPLE_STEPS Euler steps of sampling (default 20)
#   -N SAMPLE_N     images sampled per sampling run, a multiple of BATCH (default 4 x BATCH); both sides time
#                   all of them from cold (flowlab's "... rejected steps, X.XX s" line; Python --warmup 0)
#   -c NUM_CLASSES  0 (default) or 10: class-conditional model; the config must then be class-conditional too
# Environment: FLOWLAB (binary, default build/flowlab), CONFIG (default
#   configs/images/fashion_mnist_unet_bench.yaml), PYTHON (default /usr/bin/python3),
#   KEEP=1 keeps the scratch folder (printed).
#
# The config must match the Python side's flags (unet_bench.py defaults):
#   model: {type: unet, channels: 32, channel_mult: [1, 2, 2], num_res_blocks: 1,
#           attention_resolutions: [7], dropout: 0}   (1 head, scale/shift time embedding, conv resampling,
#           GroupNorm 32, zero-initialised output conv: see unet_peer.py)
#   data: fashion_mnist (train split, image shape, pixels in [-1, 1]); source N(0, I); path cond_ot;
#   flow-matching MSE; train: {batch_size: 64, optimizer: {type: adam, lr: 2.0e-4}}, no schedule warm-up
#   (costless either way), grad_clip 0 and no EMA ideally (Python does neither; both are cheap next to the
#   network but are part of flowlab's step if configured).
# This script overrides per run: run.dir, run.name, run.threads, train.steps, train.batch_size,
#   train.log_every, train.eval_every=0, train.checkpoint_every=0 (one checkpoint at the end, for sampling),
#   and for sampling --n, --solver euler, --steps, sample.batch_size, run.threads.
#
# Output: per-run lines, then a table per mode: median images/s of each side, ratio flowlab/python,
# median peak RSS (MiB, /usr/bin/time -f %M, or getrusage(RUSAGE_CHILDREN) without it), FLOPs per
# image (train 3 x forward, sample K x forward; counted by unet_peer.count_flops) and the FLOP floor:
# the images/s of an implementation running at the measured 1024x1024 matmul GFLOP/s.
set -euo pipefail
cd "$(dirname "$0")/../.."

repeats=3 threads=1 steps=60 log_every=10 batch=64 ksteps=20 sample_n="" classes=0
while getopts "n:t:s:l:b:k:N:c:h" opt; do
  case $opt in
    n) repeats=$OPTARG ;; t) threads=$OPTARG ;; s) steps=$OPTARG ;; l) log_every=$OPTARG ;;
    b) batch=$OPTARG ;; k) ksteps=$OPTARG ;; N) sample_n=$OPTARG ;; c) classes=$OPTARG ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unet_speed.sh: bad option (see -h)" >&2; exit 2 ;;
  esac
done
sample_n=${sample_n:-$((4 * batch))}
flowlab=${FLOWLAB:-build/flowlab}
config=${CONFIG:-configs/images/fashion_mnist_unet_bench.yaml}
python=${PYTHON:-/usr/bin/python3}
lib="$python scripts/bench/unet_speed_lib.py"

die() { echo "unet_speed.sh: $*" >&2; exit 1; }
[ -x "$flowlab" ] || die "no flowlab binary at $flowlab (build it: scripts/build.sh, or set FLOWLAB)"
[ -f "$config" ] || die "no config $config (it must match the Python flags: see the header of $0)"
[ -x "$python" ] || die "no python at $python (set PYTHON)"
[ "$steps" -ge $((2 * log_every)) ] || die "STEPS ($steps) must be >= 2 x LOG_EVERY ($log_every)"
[ $((sample_n % batch)) -eq 0 ] || die "SAMPLE_N ($sample_n) must be a multiple of BATCH ($batch)"
networks=$("$flowlab" list networks 2>&1 || true)
grep -q '^ *unet\b' <<<"$networks" ||
  echo "unet_speed.sh: warning: '$flowlab list networks' does not list unet (the flowlab runs will likely fail)" >&2

export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
tmp=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "scratch: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
results=$tmp/results

# measure OUT CMD...: run CMD (its stdout+stderr to OUT.log), its peak RSS in KiB to OUT.rss.
if [ -x /usr/bin/time ]; then
  measure() { local out=$1; shift; /usr/bin/time -f %M -o "$out.rss" "$@" >"$out.log" 2>&1; }
else
  measure() { local out=$1; shift; $lib rusage "$out.rss" -- "$@" >"$out.log" 2>&1; }
fi
run_or_die() {  # run_or_die OUT CMD...
  local out=$1
  measure "$@" || { echo "--- $out.log (tail):" >&2; tail -n 20 "$out.log" >&2; die "failed: ${*:2}"; }
}
py_args=(--channels 32 --channel-mult 1,2,2 --num-res-blocks 1 --attention 7 --batch "$batch"
         --threads "$threads" --num-classes "$classes")

echo "flowlab $("$flowlab" --version 2>/dev/null | head -n 1), torch $($python -c 'import torch; print(torch.__version__)')"
echo "config $config; threads $threads; train: $steps steps (first $log_every warm-up), batch $batch;" \
     "sample: $sample_n images, euler $ksteps steps; $repeats interleaved repeats"
for r in $(seq 1 "$repeats"); do
  name=bench_$r
  # flowlab train
  run_or_die "$tmp/fl_train_$r" "$flowlab" train "$config" --set run.dir="$tmp" --set run.name="$name" \
    --set train.steps="$steps" --set run.threads="$threads" --set train.batch_size="$batch" \
    --set train.log_every="$log_every" --set train.eval_every=0 --set train.checkpoint_every=0
  rate=$($lib train-rate "$tmp/$name/metrics.jsonl" "$batch")
  echo "flowlab train $rate $(cat "$tmp/fl_train_$r.rss") FLOPS_TRAIN" >>"$results"
  echo "  [$r] flowlab train  $rate images/s, peak $(cat "$tmp/fl_train_$r.rss") KiB"
  # python train
  run_or_die "$tmp/py_train_$r" "$python" scripts/bench/unet_bench.py --mode train "${py_args[@]}" \
    --steps $((steps - log_every)) --warmup "$log_every"
  rate=$($lib json-field "$tmp/py_train_$r.log" images_per_s)
  flops_train=$($lib json-field "$tmp/py_train_$r.log" flops_per_image)
  echo "python train $rate $(cat "$tmp/py_train_$r.rss") $flops_train" >>"$results"
  echo "  [$r] python  train  $rate images/s, peak $(cat "$tmp/py_train_$r.rss") KiB"
  # flowlab sample (from the run just trained)
  run_or_die "$tmp/fl_sample_$r" "$flowlab" sample "$tmp/$name" --n "$sample_n" --solver euler --steps "$ksteps" \
    --set run.threads="$threads" --set sample.batch_size="$batch"
  rate=$($lib sample-rate "$tmp/fl_sample_$r.log" "$sample_n")
  echo "flowlab sample $rate $(cat "$tmp/fl_sample_$r.rss") FLOPS_SAMPLE" >>"$results"
  echo "  [$r] flowlab sample $rate images/s, peak $(cat "$tmp/fl_sample_$r.rss") KiB"
  # python sample
  run_or_die "$tmp/py_sample_$r" "$python" scripts/bench/unet_bench.py --mode sample "${py_args[@]}" \
    --steps $((sample_n / batch)) --warmup 0 --sample-steps "$ksteps"
  rate=$($lib json-field "$tmp/py_sample_$r.log" images_per_s)
  flops_sample=$($lib json-field "$tmp/py_sample_$r.log" flops_per_image)
  echo "python sample $rate $(cat "$tmp/py_sample_$r.rss") $flops_sample" >>"$results"
  echo "  [$r] python  sample $rate images/s, peak $(cat "$tmp/py_sample_$r.rss") KiB"
done
# flowlab rows carry the Python side's FLOP count (same network).
sed -i "s/FLOPS_TRAIN/$flops_train/; s/FLOPS_SAMPLE/$flops_sample/" "$results"
gflops=$($lib gflops "$threads")
echo
$lib table "$results" "$gflops"
