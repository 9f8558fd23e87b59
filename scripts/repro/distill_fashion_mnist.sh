#!/usr/bin/env bash
# The README's classifier-distillation table (issue: classifier KD): a teacher CNN
# (configs/classifier/fashion_mnist_cnn.yaml, 0.47M parameters) and a student CNN about a ninth
# of its size (configs/distill/fashion_mnist_kd.yaml's model, 53k parameters) on Fashion-MNIST;
# the student trained with each objective below for the same steps, from SEEDS seeds; test-set
# top-1, NLL and ECE (15 bins), mean and standard deviation over the seeds.
# Environment: FLOWLAB (default build/flowlab), OUT (runs/distill), THREADS (1 per run),
# PARALLEL (2 runs at once), STEPS (student steps, 1500), TEACHER_STEPS (1500), SEEDS ("0 1 2").
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/distill}
threads=${THREADS:-1}
parallel=${PARALLEL:-2}
steps=${STEPS:-1500}
teacher_steps=${TEACHER_STEPS:-1500}
seeds=${SEEDS:-0 1 2}
mkdir -p "$out"

# Each objective's terms (T = 4 unless a term sets its own; section 5 of distill_ot.md for each).
declare -A terms=(
  [ce]="{ce: {weight: 1.0}}"
  [kd]="{ce: {weight: 1.0}, kd: {weight: 1.0}}"
  [dkd]="{ce: {weight: 1.0}, dkd: {alpha: 1.0, beta: 8.0, warmup_steps: 300}}"
  [dist]="{ce: {weight: 1.0}, dist: {beta: 1.0, gamma: 1.0, tau: 1.0}}"
  [pld]="{pld: {teacher_temperature: 4.0}}"
  [sinkd]="{ce: {weight: 0.1}, kd: {weight: 0.9}, sinkd: {weight: 0.0008, temperature: 2}}"
  [bd_kd]="{ce: {weight: 1.0}, bd_kd: {weight: 1.0}}"
)
methods=(ce kd dkd dist pld sinkd bd_kd)

teacher="$out/teacher"
if ! ls "$teacher/checkpoints"/*.pt >/dev/null 2>&1; then
  echo "training the teacher ($teacher_steps steps)"
  "$flowlab" train configs/classifier/fashion_mnist_cnn.yaml --set run.dir="$out" run.name=teacher \
    run.threads="$threads" train.steps="$teacher_steps" train.eval_every=0 >"$out/teacher.train.log" 2>&1
fi
"$flowlab" eval "$teacher" --json "$out/teacher.json" >/dev/null

run_one() {
  local method=$1 seed=$2 name=$1_seed$2
  if ! ls "$out/$name/checkpoints"/*.pt >/dev/null 2>&1; then
    "$flowlab" train configs/distill/fashion_mnist_kd.yaml --set run.dir="$out" run.name="$name" run.seed="$seed" \
      run.threads="$threads" teacher.run="$teacher" train.steps="$steps" train.eval_every=0 \
      "objective.terms=${terms[$method]}" >"$out/$name.train.log" 2>&1
  fi
  "$flowlab" eval "$out/$name" --json "$out/$name.json" >/dev/null
  echo "done $name"
}
export -f run_one
jobs_running=0
for method in "${methods[@]}"; do
  for seed in $seeds; do
    run_one "$method" "$seed" &
    jobs_running=$((jobs_running + 1))
    if [ "$jobs_running" -ge "$parallel" ]; then wait -n; jobs_running=$((jobs_running - 1)); fi
  done
done
wait
/usr/bin/python3 scripts/repro/distill_table.py "$out" "${methods[@]}"
