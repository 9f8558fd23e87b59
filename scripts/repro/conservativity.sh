#!/usr/bin/env bash
# The README's conservativity table (issue: diagnostics; Horvat & Pfister 2024, Vuong et al. 2025,
# Stanczuk et al. 2022): an unconstrained MLP and an energy network (field = -grad E), trained alike
# (configs/toy/moons.yaml's model and schedule) on moons, a 2-sphere in R^5, the swiss roll in R^3
# and a 2-sphere in R^100 (beyond exact Jacobians: Hutchinson divergences, 64 random directions); then `flowlab diagnose` on each: asymmetry and circulation against t, the gauge
# decomposition (remainder share, samples of the conservative part) and the intrinsic dimension.
# Environment: FLOWLAB (default build/flowlab), OUT (default runs/conservativity), THREADS (1),
# PARALLEL (2), STEPS (training steps, default 10000), GAUGE_STEPS (3000).
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/conservativity}
threads=${THREADS:-1}
parallel=${PARALLEL:-2}
steps=${STEPS:-10000}
gauge_steps=${GAUGE_STEPS:-3000}
mkdir -p "$out"

declare -A data=(
  [moons]="{type: toy2d, name: moons, noise: 0.05}"
  [sphere]="{type: manifold, shape: sphere, intrinsic_dim: 2, ambient_dim: 5}"
  [swiss_roll]="{type: manifold, shape: swiss_roll, intrinsic_dim: 2, ambient_dim: 3}"
  [sphere_r100]="{type: manifold, shape: sphere, intrinsic_dim: 2, ambient_dim: 100}"
)

run_one() {
  local set=$1 model=$2 name=$1_$2
  if ! ls "$out/$name/checkpoints"/*.pt >/dev/null 2>&1; then
    "$flowlab" train configs/toy/moons.yaml --set "data=${data[$set]}" model.type="$model" run.name="$name" \
      run.dir="$out" run.threads="$threads" train.steps="$steps" train.eval_every=0 >"$out/$name.train.log" 2>&1
  fi
  "$flowlab" diagnose "$out/$name" --points 256 --gauge-steps "$gauge_steps" --id-points 200 \
    --json "$out/$name/diagnose.json" --plot "$out/$name/diagnose.png" --set run.threads="$threads" eval.n=5000 \
    >"$out/$name/diagnose.txt" 2>&1
}

running=0
for set in moons sphere swiss_roll sphere_r100; do
  for model in mlp energy_mlp; do
    run_one "$set" "$model" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
      wait -n
      running=$((running - 1))
    fi
  done
done
wait
/usr/bin/python3 scripts/repro/conservativity_table.py "$out"
