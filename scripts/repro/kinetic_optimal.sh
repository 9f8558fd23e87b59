#!/usr/bin/env bash
# The README's kinetic-optimal table (Shaul et al. 2023, Table 1's measures on the checkerboard):
# Gaussian paths trained alike (configs/toy/checkerboard_ko.yaml with path.type switched), then for
# each run the kinetic energy (lambda formula and the model's Monte Carlo), NLL, and sample quality
# with Euler at 2, 6, 10, 16 and 50 steps and with dopri5 (adaptive: its NFE).
# Environment: FLOWLAB (binary, default build/flowlab), OUT (runs folder, default runs/ko),
# PATHS (default "cond_ot trig vp kinetic_optimal"), THREADS per run (1), PARALLEL runs (2),
# EXTRA (more --set overrides for every run, e.g. "train.steps=2000").
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/ko}
paths=${PATHS:-"cond_ot trig vp kinetic_optimal"}
threads=${THREADS:-1}
parallel=${PARALLEL:-2}
extra=${EXTRA:-}
config=configs/toy/checkerboard_ko.yaml
mkdir -p "$out"

train_one() {
  local p=$1 name=checkerboard_$1
  if [ -d "$out/$name/checkpoints" ] && ls "$out/$name/checkpoints"/*.pt >/dev/null 2>&1; then
    echo "kinetic_optimal.sh: $name already trained"
    return
  fi
  "$flowlab" train "$config" --set path.type="$p" run.name="$name" run.dir="$out" run.threads="$threads" $extra \
    >"$out/$name.train.log" 2>&1
}

evaluate_one() {
  local run=$out/checkerboard_$1
  local sets=(--set run.threads="$threads")
  "$flowlab" path-energy "$run" --n 20000 --json "$run/path_energy.json" "${sets[@]}" >"$run/path_energy.txt" 2>&1
  "$flowlab" eval "$run" --metrics nll --json "$run/eval_nll.json" "${sets[@]}" >/dev/null 2>&1
  for steps in 2 6 10 16 50; do
    "$flowlab" eval "$run" --metrics energy_distance sliced_w2 --n 5000 --json "$run/eval_euler$steps.json" \
      --set sample.solver=euler sample.steps="$steps" run.threads="$threads" >/dev/null 2>&1
  done
  "$flowlab" eval "$run" --metrics energy_distance sliced_w2 --n 5000 --json "$run/eval_dopri5.json" \
    --set sample.solver=dopri5 sample.atol=1e-5 sample.rtol=1e-5 run.threads="$threads" >/dev/null 2>&1
}

running=0
for p in $paths; do
  ( train_one "$p" && evaluate_one "$p" ) &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
/usr/bin/python3 scripts/repro/kinetic_optimal_table.py "$out" $paths
