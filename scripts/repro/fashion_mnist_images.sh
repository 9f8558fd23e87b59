#!/usr/bin/env bash
# The README's image table (issue: images). First the feature network
# (configs/classifier/fashion_mnist_cnn.yaml), then class-conditional flow matching with a U-Net
# (configs/images/fashion_mnist_unet.yaml) on each path of PATHS, the runs side by side. Each run
# is scored in the feature network's space against the test images of the same classes
# (Fréchet distance, precision, recall; N samples, an equal share of every class), with the
# feature network's accuracy on the class-conditional samples, for Euler with 1, 2, 4, 8 and 16
# steps and dopri5 (atol = rtol = TOL; its NFE), at guidance 1 and 2; bits/dim of BPD_N test images (Hutchinson,
# dopri5, uniform dequantisation); and a guided sample grid, one row per class.
# Environment: FLOWLAB (build/flowlab), OUT (runs/images), THREADS (1 per run), PATHS
# ("cond_ot trig"), STEPS (U-Net steps; the config's 3500), N (samples per score, 500), BPD_N
# (test images for bits/dim, 64), TOL (dopri5's sampling tolerances, 1e-3), GRID (the grid's path, cond_ot; written to OUT/grid.png).
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/images}
threads=${THREADS:-1}
paths=${PATHS:-cond_ot trig}
n=${N:-500}
bpd_n=${BPD_N:-64}
tol=${TOL:-1e-3}
grid_path=${GRID:-cond_ot}
mkdir -p "$out"

features="$out/fashion_mnist_cnn"
if ! ls "$features/checkpoints"/*.pt >/dev/null 2>&1; then
  echo "training the feature network"
  "$flowlab" train configs/classifier/fashion_mnist_cnn.yaml --set run.dir="$out" run.threads="$threads" \
    train.eval_every=0 >"$out/features.train.log" 2>&1
fi
"$flowlab" eval "$features" --json "$out/features.json" >/dev/null

# A run is finished when it has its last step's checkpoint (a cut-off run resumes).
finished() { [ -f "$1/checkpoints/step_$(printf %09d "$2").pt" ]; }

one_path() {
  local path=$1 run="$out/unet_$1"
  local steps=${STEPS:-$(sed -n 's/.*steps: *\([0-9]*\), batch_size: 64.*/\1/p' configs/images/fashion_mnist_unet.yaml)}
  if ! finished "$run" "$steps"; then
    local resume=()
    ls "$run/checkpoints"/*.pt >/dev/null 2>&1 && resume=(--resume)
    "$flowlab" train configs/images/fashion_mnist_unet.yaml "${resume[@]}" --set run.dir="$out" \
      run.name="unet_$path" run.threads="$threads" path.type="$path" train.steps="$steps" \
      eval.features.run="$features" >>"$out/unet_$path.train.log" 2>&1
  fi
  for w in 1 2; do
    for solver in euler:1 euler:2 euler:4 euler:8 euler:16 dopri5:0; do
      local name=${solver%%:*} k=${solver##*:} extra=()
      [ "$name" = euler ] && extra=(--set sample.solver=euler sample.steps="$k")
      [ "$name" = dopri5 ] && extra=(--set sample.solver=dopri5 sample.atol="$tol" sample.rtol="$tol")
      local tag="unet_${path}_w${w}_${name}${k/#0/}"
      [ -f "$out/$tag.json" ] && continue
      "$flowlab" eval "$run" --n "$n" --guidance "$w" --classes all --json "$out/$tag.json" \
        --metrics frechet precision recall class_accuracy \
        --set eval.features.run="$features" run.threads="$threads" "${extra[@]}" >"$out/$tag.log" 2>&1
    done
  done
  [ -f "$out/unet_${path}_bpd.json" ] ||
    "$flowlab" eval "$run" --n "$bpd_n" --metrics nll --json "$out/unet_${path}_bpd.json" \
      --set eval.features.run="$features" run.threads="$threads" eval.likelihood.divergence=hutchinson \
      eval.likelihood.solver=dopri5 >"$out/unet_${path}_bpd.log" 2>&1
  echo "done $path"
}

pids=()
for path in $paths; do one_path "$path" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || { echo "a run failed: see the logs in $out" >&2; exit 1; }; done
"$flowlab" sample "$out/unet_$grid_path" --classes all --guidance 2 --grid-size 10 --plot "$out/grid.png" \
  --out "$out/grid.npy" --set eval.features.run="$features" >"$out/grid.log" 2>&1
grep -h "parameters" "$out"/unet_*.train.log | head -n 1
/usr/bin/python3 scripts/repro/images_table.py "$out" $paths
