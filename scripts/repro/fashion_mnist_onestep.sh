#!/usr/bin/env bash
# The README's one-step Fashion-MNIST table (issue: f-distill). Distils the class-conditional
# cond_ot U-Net of scripts/repro/fashion_mnist_images.sh (OUT/unet_cond_ot, which that script
# trains, with the feature network OUT/fashion_mnist_cnn) into one-step generators
# (configs/images/fashion_mnist_onestep.yaml) by reverse KL, JS and forward KL, two runs at a
# time, then scores each at NFE 1 exactly as that script scores the teacher (N samples, an
# equal share of every class, Fréchet distance, precision, recall and class accuracy in the
# feature network's space against the test images of the same classes), and prints the table
# beside the teacher's Euler 1, 2, 4, 8 and dopri5 rows from OUT/unet_cond_ot_w1_*.json.
# Environment: FLOWLAB (build/flowlab), OUT (runs/images), THREADS (1 per run), STEPS (the
# config's), DIVERGENCES ("reverse_kl jensen_shannon forward_kl"), JOBS (runs at once, 2), N (500),
# PYTHON (/usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/images}
threads=${THREADS:-1}
n=${N:-500}
jobs=${JOBS:-2}
python=${PYTHON:-/usr/bin/python3}
read -r -a divergences <<<"${DIVERGENCES:-reverse_kl jensen_shannon forward_kl}"
steps=${STEPS:-$(sed -n 's/.*steps: *\([0-9]*\), batch_size: 32.*/\1/p' configs/images/fashion_mnist_onestep.yaml)}
features="$out/fashion_mnist_cnn"
teacher="$out/unet_cond_ot"
export OMP_NUM_THREADS=$threads

fail() { echo "fashion_mnist_onestep.sh: $*" >&2; exit 1; }
ls "$teacher/checkpoints"/*.pt >/dev/null 2>&1 || fail "no teacher in $teacher (run scripts/repro/fashion_mnist_images.sh)"
ls "$features/checkpoints"/*.pt >/dev/null 2>&1 || fail "no feature network in $features"
finished() { [ -f "$1/checkpoints/step_$(printf %09d "$2").pt" ]; }

one() {  # one DIVERGENCE
  local name=onestep_$1 run="$out/onestep_$1"
  if ! finished "$run" "$steps"; then
    local resume=()
    ls "$run/checkpoints"/*.pt >/dev/null 2>&1 && resume=(--resume)
    "$flowlab" train configs/images/fashion_mnist_onestep.yaml "${resume[@]}" --set run.dir="$out" \
      run.name="$name" run.threads="$threads" teacher.run="$teacher" objective.divergence="$1" \
      train.steps="$steps" >>"$out/$name.train.log" 2>&1 || fail "distilling $name failed (see $out/$name.train.log)"
  fi
  "$flowlab" eval "$run" --n "$n" --classes all --json "$out/$name.json" \
    --metrics frechet precision recall class_accuracy \
    --set eval.features.run="$features" run.threads="$threads" >"$out/$name.eval.log" 2>&1 ||
    fail "scoring $name failed (see $out/$name.eval.log)"
}

pids=()
for d in "${divergences[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || fail "a run failed"; done
  one "$d" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a run failed"; done
"$flowlab" sample "$out/onestep_${divergences[0]}" --classes all --grid-size 10 --plot "$out/onestep_grid.png" \
  --out "$out/onestep_grid.npy" >"$out/onestep_grid.log" 2>&1 || fail "the grid failed"

"$python" - "$out" "${divergences[@]}" <<'PY'
import json, sys
out, divergences = sys.argv[1], sys.argv[2:]
print("| sampler | NFE | Fréchet | precision | recall | class accuracy |")
print("|---|---|---|---|---|---|")
def line(label, r):
    # eval's nfe sums the chunks of sample.batch_size (250 in both configs): per sample, divide.
    chunks = -(-r["n"] // 250)
    print(f"| {label} | {r['nfe'] // chunks} | {r['frechet']:.1f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['class_accuracy']:.3f} |")
for k in ["euler1", "euler2", "euler4", "euler8", "dopri5"]:
    try:
        line(f"teacher, {k}", json.load(open(f"{out}/unet_cond_ot_w1_{k}.json")))
    except FileNotFoundError:
        pass
for d in divergences:
    line(f"one step, {d}", json.load(open(f"{out}/onestep_{d}.json")))
PY
