#!/usr/bin/env bash
# The README's f-distill mode-coverage table (Xu, Nie & Vahdat 2025): flow-matching teachers on
# eight Gaussians with uniform weights and with unequal weights (0.4, 0.3, 0.1, 0.05, 0.05, 0.04,
# 0.03, 0.03), then one-step generators distilled from each by every divergence
# (configs/distill/mixture8_onestep.yaml). Reports the mass each puts on each mode (nearest
# centre) against the truth, the modes it drops (mass below half their weight), and the energy
# distance to fresh data, for the teachers (dopri5) and the one-step generators (NFE 1).
# Environment: FLOWLAB (default build/flowlab), OUT (default runs/f_distill_2d), THREADS (1),
# STEPS (distillation steps, default 10000), SEEDS (distillation seeds, default "0 1 2": the table
# gives mean +- standard deviation over them), JOBS (parallel runs, default 2), PYTHON (/usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/f_distill_2d}
threads=${THREADS:-1}
steps=${STEPS:-10000}
jobs=${JOBS:-2}
read -r -a seeds <<<"${SEEDS:-0 1 2}"
python=${PYTHON:-/usr/bin/python3}
divergences=(reverse_kl softened_rkl jensen_shannon squared_hellinger forward_kl jeffreys)
unequal="data.weights=[0.4,0.3,0.1,0.05,0.05,0.04,0.03,0.03]"
mkdir -p "$out"
export OMP_NUM_THREADS=$threads

fail() { echo "f_distill_2d.sh: $*" >&2; exit 1; }
has_checkpoint() { ls "$1/checkpoints"/*.pt >/dev/null 2>&1; }

teacher() {  # teacher NAME [OVERRIDES...]
  local name=$1; shift
  if ! has_checkpoint "$out/$name"; then
    "$flowlab" train configs/distill/mixture8_teacher.yaml --set run.dir="$out" run.name="$name" \
      run.threads="$threads" "$@" >"$out/$name.train.log" 2>&1 || fail "training $name failed (see $out/$name.train.log)"
  fi
  "$flowlab" sample "$out/$name" --n 10000 --seed 1 --out "$out/$name/samples.npy" --set run.threads="$threads" \
    >"$out/$name.sample.log" 2>&1 || fail "sampling $name failed"
  "$flowlab" eval "$out/$name" --seed 1 --json "$out/$name/eval.json" --set run.threads="$threads" \
    >"$out/$name.eval.log" 2>&1 || fail "evaluating $name failed"
}

student() {  # student TEACHER DIVERGENCE SEED
  local name=$1_$2_s$3
  if ! has_checkpoint "$out/$name"; then
    "$flowlab" train configs/distill/mixture8_onestep.yaml --set run.dir="$out" run.name="$name" run.seed="$3" \
      run.threads="$threads" teacher.run="$out/$1" objective.divergence="$2" train.steps="$steps" \
      >"$out/$name.train.log" 2>&1 || fail "distilling $name failed (see $out/$name.train.log)"
  fi
  "$flowlab" sample "$out/$name" --n 10000 --seed 1 --out "$out/$name/samples.npy" --set run.threads="$threads" \
    >"$out/$name.sample.log" 2>&1 || fail "sampling $name failed"
  "$flowlab" eval "$out/$name" --seed 1 --json "$out/$name/eval.json" --set run.threads="$threads" \
    >"$out/$name.eval.log" 2>&1 || fail "evaluating $name failed"
}

teacher uniform &
teacher unequal "$unequal" &
wait -n && wait -n || fail "a teacher failed"

pids=()
for s in "${seeds[@]}"; do
  for t in uniform unequal; do
    for d in "${divergences[@]}"; do
      while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || fail "a distillation failed"; done
      student "$t" "$d" "$s" &
      pids+=($!)
    done
  done
done
for p in "${pids[@]}"; do wait "$p" || fail "a distillation failed"; done

"$python" scripts/repro/f_distill_table.py "$out" "${seeds[*]}" "${divergences[@]}"
