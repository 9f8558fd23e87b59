#!/usr/bin/env bash
# The README's Monge-gap table (Uscidda & Cuturi 2023): a map T from eight Gaussians to moons
# (configs/toy/monge_map.yaml) fitted by the Sinkhorn divergence alone (lambda = 0) and with the
# Monge gap (lambda = 1); then the fit (W2 and Sinkhorn divergence of T#source against fresh
# data) and the transport cost mean |T(x) - x|^2.
# Environment: FLOWLAB (default build/flowlab), OUT (default runs/monge_map), THREADS (1),
# STEPS (training steps, default 3000).
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/monge_map}
threads=${THREADS:-1}
steps=${STEPS:-3000}
mkdir -p "$out"

run_one() {
  local lambda=$1 name=lambda_$1
  if ! ls "$out/$name/checkpoints"/*.pt >/dev/null 2>&1; then
    "$flowlab" train configs/toy/monge_map.yaml --set objective.lambda="$lambda" run.name="$name" run.dir="$out" \
      run.threads="$threads" train.steps="$steps" >"$out/$name.train.log" 2>&1
  fi
  "$flowlab" eval "$out/$name" --seed 1 --json "$out/$name/eval.json" --set run.threads="$threads" \
    >"$out/$name/eval.txt" 2>&1
}

run_one 0 &
first=$!
run_one 1 &
second=$!
wait "$first" "$second"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print("| objective | W2(T#source, data) | Sinkhorn div. (eps 0.05) | transport cost mean \\|T(x) - x\\|^2 |")
print("|---|---|---|---|")
for lam, label in [("0", "Sinkhorn divergence only"), ("1", "+ Monge gap (lambda = 1)")]:
    r = json.load(open(f"{out}/lambda_{lam}/eval.json"))
    print(f"| {label} | {r['exact_w2']:.4f} | {r['sinkhorn']:.4f} | {r['transport_cost']:.4f} |")
PY
