#!/usr/bin/env bash
# The README's minibatch-OT table (Tong et al. 2023; Pooladian et al. 2023): eight Gaussians to
# moons on straight paths, trained alike with independent, exact-OT and Sinkhorn-OT couplings
# (configs/toy/8gaussians_to_moons_ot.yaml); then W2 (optimal assignment, 2000 points) and the
# Sinkhorn divergence (eps 0.05) of samples against fresh data after 1 and 4 Euler steps and with
# dopri5, and the sampler's transport cost mean |x1 - x0|^2.
# Environment: FLOWLAB (default build/flowlab), OUT (default runs/ot_coupling), THREADS (1),
# STEPS (training steps, default 10000).
set -euo pipefail
cd "$(dirname "$0")/../.."
flowlab=${FLOWLAB:-build/flowlab}
out=${OUT:-runs/ot_coupling}
threads=${THREADS:-1}
steps=${STEPS:-10000}
mkdir -p "$out"

run_one() {
  local coupling=$1
  if ! ls "$out/$coupling/checkpoints"/*.pt >/dev/null 2>&1; then
    "$flowlab" train configs/toy/8gaussians_to_moons_ot.yaml --set coupling.type="$coupling" run.name="$coupling" \
      run.dir="$out" run.threads="$threads" train.steps="$steps" >"$out/$coupling.train.log" 2>&1
  fi
  for solver in euler1 euler4 dopri5; do
    case $solver in
      euler1) set_solver=(sample.solver=euler sample.steps=1) ;;
      euler4) set_solver=(sample.solver=euler sample.steps=4) ;;
      dopri5) set_solver=(sample.solver=dopri5) ;;
    esac
    "$flowlab" eval "$out/$coupling" --seed 1 --json "$out/$coupling/eval_$solver.json" --set eval.sinkhorn.eps=0.05 \
      --set run.threads="$threads" "${set_solver[@]}" >"$out/$coupling/eval_$solver.txt" 2>&1
  done
}

pids=()
for coupling in independent exact_ot sinkhorn_ot; do
  run_one "$coupling" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print("| coupling | W2, 1 Euler step | W2, 4 Euler steps | W2, dopri5 | dopri5 NFE | Sinkhorn div., 1 step | Sinkhorn div., dopri5 | transport cost, dopri5 |")
print("|---|---|---|---|---|---|---|---|")
for coupling in ["independent", "exact_ot", "sinkhorn_ot"]:
    r = {s: json.load(open(f"{out}/{coupling}/eval_{s}.json")) for s in ["euler1", "euler4", "dopri5"]}
    print(f"| {coupling} | {r['euler1']['exact_w2']:.4f} | {r['euler4']['exact_w2']:.4f} | {r['dopri5']['exact_w2']:.4f} "
          f"| {r['dopri5']['nfe']} | {r['euler1']['sinkhorn']:.4f} | {r['dopri5']['sinkhorn']:.4f} "
          f"| {r['dopri5']['transport_cost']:.4f} |")
PY
