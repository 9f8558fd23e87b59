#!/usr/bin/env bash
# Sampling and likelihood speed of a trained moons model: flowlab against torchdiffeq on the same
# network and weights (scripts/bench/sampling_peer.py rebuilds the MLP in Python from the run's
# checkpoint), interleaved:
#   (a) fixed-step ODE sampling of N points, STEPS steps, each solver of SOLVERS;
#   (b) dopri5 sampling of N points, rtol = atol = TOL;
#   (c) exact-divergence NLL of NLL_N moons points by the backward ODE, dopri5, rtol = atol = TOL.
# First it checks that the Python field is flowlab's (see "check" lines below).
#
# Usage: scripts/bench/sampling_compare.sh [-n REPEATS] [N] [THREADS] [NLL_N]
#   -n REPEATS  interleaved repetitions (default 3); the table shows medians
#   N           samples per sampling run (default 10000, one batch on both sides: sample.batch_size 10000)
#   THREADS     intra-op threads of both sides (default 1): flowlab run.threads, torch.set_num_threads,
#               OMP_NUM_THREADS, MKL_NUM_THREADS
#   NLL_N       data points of the likelihood runs (default 2000)
# Environment: FLOWLAB (binary, default build/flowlab), PYTHON (default .venv/bin/python, else
#   /usr/bin/python3; needs torchdiffeq and PyYAML), RUN_DIR (a run of configs/toy/moons.yaml to reuse;
#   trained there when it holds no checkpoint; default: trained in the scratch folder),
#   TRAIN_STEPS (default 2000), SOLVERS (fixed-step solvers, default "euler heun rk4"), STEPS (default 50),
#   TOL (rtol = atol of dopri5, default 1e-5: flowlab's default), KEEP=1 keeps the scratch folder.
#
# Timing. flowlab sample prints its own sampling time (source draw + solve, "%.2f s": 10 ms
# resolution); that is flowlab_s. flowlab eval prints none, so its NLL time is the CLI's wall clock
# minus that of a trivial eval of the same run (2 points, 1 Euler step: start-up, checkpoint load);
# sampling also shows wall clock minus a trivial sample (n = 1, 1 Euler step), which still includes
# writing the .npy and the PNG of N points. torchdiffeq_s is timed inside Python around the source draw
# (sampling) or the whole solve (NLL), cold (the first solve of the process) like flowlab's.
# ratio = torchdiffeq_s / flowlab_s (> 1: flowlab faster).
# Differences that remain: flowlab's dopri5 controls the error per sample (each row its own step size;
# finished rows leave the batch) and counts one field evaluation per batched call; torchdiffeq's
# controls one RMS norm over the batch. torchdiffeq's rk4 is the 3/8 rule, flowlab's the classic
# tableau (both 4 evaluations per step); heun is torchdiffeq's heun2, the same tableau as flowlab's.
# Source draws: flowlab's Philox per-sample normals, torch.randn in Python (same law, other numbers).
set -euo pipefail
cd "$(dirname "$0")/../.."

repeats=3
while getopts "n:h" opt; do
  case $opt in
    n) repeats=$OPTARG ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sampling_compare.sh: bad option (see -h)" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
n=${1:-10000}
threads=${2:-1}
nll_n=${3:-2000}
flowlab=${FLOWLAB:-build/flowlab}
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=/usr/bin/python3; fi
fi
python=$PYTHON
train_steps=${TRAIN_STEPS:-2000}
solvers=${SOLVERS:-euler heun rk4}
steps=${STEPS:-50}
tol=${TOL:-1e-5}
peer="$python scripts/bench/sampling_peer.py"

die() { echo "sampling_compare.sh: $*" >&2; exit 1; }
[ -x "$flowlab" ] || die "no flowlab binary at $flowlab (build it: scripts/build.sh, or set FLOWLAB)"
"$python" -c 'import torchdiffeq, yaml' 2>/dev/null || die "$python lacks torchdiffeq or PyYAML (set PYTHON)"
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

tmp=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "scratch: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
results=$tmp/results
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
json_field() { "$python" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
json_file_field() { "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

run=${RUN_DIR:-$tmp/moons}
if ! ls "$run"/checkpoints/step_*.pt >/dev/null 2>&1; then
  echo "training configs/toy/moons.yaml for $train_steps steps into $run"
  "$flowlab" train configs/toy/moons.yaml --set run.dir="$(dirname "$run")" --set run.name="$(basename "$run")" \
    --set run.threads="$threads" --set run.device=cpu --set train.steps="$train_steps" --set train.eval_every=0 \
    --set train.checkpoint_every=0 --set train.log_every="$train_steps" >"$tmp/train.log" 2>&1 ||
    { tail -n 20 "$tmp/train.log" >&2; die "flowlab train failed"; }
fi
fl_common=(--set run.threads="$threads" --set run.device=cpu --set sample.batch_size="$n")

echo "$("$flowlab" --version 2>/dev/null | head -n 1) ($flowlab); torch $("$python" -c 'import torch; print(torch.__version__)')," \
     "torchdiffeq $("$python" -c 'import torchdiffeq; print(torchdiffeq.__version__)')"
echo "run $run; threads $threads on both sides; sampling $n points, fixed-step $steps steps ($solvers);" \
     "dopri5 rtol = atol = $tol; NLL of $nll_n points (exact divergence, dopri5); $repeats interleaved repeats"

# Data points for the likelihood (flowlab's moons law, the run's scale and noise), and 2 for the baseline.
$peer data --run "$run" --n "$nll_n" --seed 0 --out "$tmp/points.npy" >/dev/null
$peer data --run "$run" --n 2 --seed 1 --out "$tmp/points2.npy" >/dev/null

# Checks: the Python field is flowlab's.
check=$($peer check --run "$run" --threads "$threads")
echo "check: weights $(json_field "$check" weights) of $(json_field "$check" checkpoint), $(json_field "$check" parameters)" \
     "parameters, $(json_field "$check" activation), time embedding $(json_field "$check" time_embedding)"
freq=$("$python" -c 'import json, sys; print(json.loads(sys.argv[1]).get("frequencies_max_rel_diff", "n/a"))' "$check")
echo "check: checkpoint frequencies against scale * exp(-log(max_period) k / half): max relative difference $freq"
"$flowlab" eval "$run" --metrics nll --data "$tmp/points.npy" "${fl_common[@]}" --set eval.likelihood.solver=heun \
  --set eval.likelihood.steps="$steps" --json "$tmp/check.json" >"$tmp/check.log" 2>&1 ||
  { tail -n 20 "$tmp/check.log" >&2; die "flowlab eval failed"; }
fl_nll=$(json_file_field "$tmp/check.json" nll)
py=$($peer nll --run "$run" --data "$tmp/points.npy" --solver heun --steps "$steps" --threads "$threads")
py_nll=$(json_field "$py" nll)
py_other=$(json_field "$($peer nll --run "$run" --data "$tmp/points.npy" --solver heun --steps "$steps" --threads "$threads" \
  --weights "$( [ "$(json_field "$check" weights)" = ema ] && echo model || echo ema)")" nll)
"$python" - "$fl_nll" "$py_nll" "$py_other" "$nll_n" "$steps" <<'EOF'
import sys
fl, py, other, n, steps = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
verdict = "OK" if abs(fl - py) < 1e-5 else "MISMATCH"
print(f"check: NLL of the same {n} points, heun {steps} steps, float64 state, exact divergence (deterministic):"
      f" flowlab {fl:.9f}, torchdiffeq {py:.9f}, |diff| {abs(fl - py):.2e} -> {verdict}"
      f" (the other weight set of the checkpoint gives {other:.6f})")
EOF

for r in $(seq 1 "$repeats"); do
  # Start-up references: trivial commands on the same run.
  t0=$(now)
  "$flowlab" sample "$run" --n 1 --solver euler --steps 1 "${fl_common[@]}" --out "$tmp/trivial.npy" \
    --plot "$tmp/trivial.png" >/dev/null 2>&1 || die "flowlab sample (trivial) failed"
  sample_base=$(elapsed "$t0" "$(now)")
  t0=$(now)
  "$flowlab" eval "$run" --metrics nll --data "$tmp/points2.npy" "${fl_common[@]}" --set eval.likelihood.solver=euler \
    --set eval.likelihood.steps=1 >/dev/null 2>&1 || die "flowlab eval (trivial) failed"
  eval_base=$(elapsed "$t0" "$(now)")
  echo "  [$r] start-up: flowlab sample n=1, 1 step: $sample_base s wall; flowlab eval 2 points, 1 step: $eval_base s wall"

  for solver in $solvers dopri5; do
    if [ "$solver" = dopri5 ]; then
      fl_args=(--solver dopri5 --set sample.rtol="$tol" --set sample.atol="$tol")
      py_args=(--solver dopri5 --rtol "$tol" --atol "$tol")
      task="dopri5 $tol"
    else
      fl_args=(--solver "$solver" --steps "$steps")
      py_args=(--solver "$solver" --steps "$steps")
      task="$solver $steps"
    fi
    t0=$(now)
    "$flowlab" sample "$run" --n "$n" "${fl_args[@]}" "${fl_common[@]}" --seed "$r" --out "$tmp/fl_$solver.npy" \
      --plot "$tmp/fl_$solver.png" >"$tmp/fl_sample.log" 2>&1 ||
      { tail -n 20 "$tmp/fl_sample.log" >&2; die "flowlab sample failed ($solver)"; }
    wall=$(elapsed "$t0" "$(now)")
    # "... with S: NFE field evaluations, R rejected steps, X.XX s -> FILE"
    parsed=$(sed -nE 's/.*: ([0-9]+) field evaluations, ([0-9]+) rejected steps, ([0-9.]+) s -> .*/\1 \2 \3/p' \
      "$tmp/fl_sample.log" | tail -n 1)
    [ -n "$parsed" ] || die "no timing line in flowlab sample's output ($tmp/fl_sample.log)"
    read -r nfe rejected seconds <<<"$parsed"
    net=$(elapsed "$sample_base" "$wall")
    echo "sample|$task|flowlab|$seconds|$net|$nfe|$rejected" >>"$results"
    printf "  [%d] %-14s flowlab     %8.3f s (own timer; wall-start-up %.3f s), NFE %s, rejected sample-steps %s\n" \
      "$r" "$task" "$seconds" "$net" "$nfe" "$rejected"
    py=$($peer sample --run "$run" --n "$n" "${py_args[@]}" --seed "$r" --threads "$threads" \
      --out "$tmp/py_$solver.npy") || die "peer sample failed ($solver)"
    seconds=$(json_field "$py" seconds)
    nfe=$(json_field "$py" nfe)
    echo "sample|$task|torchdiffeq|$seconds||$nfe|" >>"$results"
    printf "  [%d] %-14s torchdiffeq %8.3f s, NFE %s\n" "$r" "$task" "$seconds" "$nfe"
  done

  t0=$(now)
  "$flowlab" eval "$run" --metrics nll --data "$tmp/points.npy" "${fl_common[@]}" --set eval.likelihood.solver=dopri5 \
    --set eval.likelihood.rtol="$tol" --set eval.likelihood.atol="$tol" --json "$tmp/nll.json" >"$tmp/nll.log" 2>&1 ||
    { tail -n 20 "$tmp/nll.log" >&2; die "flowlab eval failed"; }
  wall=$(elapsed "$t0" "$(now)")
  net=$(elapsed "$eval_base" "$wall")
  nfe=$(json_file_field "$tmp/nll.json" nll_nfe | sed 's/\.0$//')
  value=$(json_file_field "$tmp/nll.json" nll)
  echo "nll|dopri5 $tol|flowlab||$net|$nfe|$value" >>"$results"
  printf "  [%d] %-14s flowlab     %8.3f s (wall %.3f - start-up %.3f), NFE %s, NLL %.6f\n" \
    "$r" "nll dopri5" "$net" "$wall" "$eval_base" "$nfe" "$value"
  py=$($peer nll --run "$run" --data "$tmp/points.npy" --solver dopri5 --rtol "$tol" --atol "$tol" \
    --threads "$threads") || die "peer nll failed"
  seconds=$(json_field "$py" seconds)
  nfe=$(json_field "$py" nfe)
  value=$(json_field "$py" nll)
  echo "nll|dopri5 $tol|torchdiffeq|$seconds||$nfe|$value" >>"$results"
  printf "  [%d] %-14s torchdiffeq %8.3f s, NFE %s, NLL %.6f\n" "$r" "nll dopri5" "$seconds" "$nfe" "$value"
done

echo
# Sample statistics of the last repeat (same seed on both sides, but different generators).
"$python" - "$tmp" "$solvers" <<'EOF'
import sys
import numpy as np
tmp, solvers = sys.argv[1], sys.argv[2].split() + ["dopri5"]
for s in solvers:
    a, b = np.load(f"{tmp}/fl_{s}.npy").astype(np.float64), np.load(f"{tmp}/py_{s}.npy").astype(np.float64)
    n = min(len(a), len(b))
    se_mean = np.sqrt((a.var(0) + b.var(0)) / n)
    z_mean = np.abs(a.mean(0) - b.mean(0)) / se_mean
    ca, cb = np.cov(a.T), np.cov(b.T)
    # SE of a covariance entry of a near-Gaussian sample: sqrt((s_ii s_jj + s_ij^2) / n), for each side.
    va = np.sqrt((np.outer(np.diag(ca), np.diag(ca)) + ca ** 2) / n)
    z_cov = np.abs(ca - cb) / np.sqrt(2 * va ** 2)
    print(f"check: {s:<7} samples (independent noise): mean flowlab {np.round(a.mean(0), 4)}, torchdiffeq "
          f"{np.round(b.mean(0), 4)}; cov flowlab {np.round(ca.flatten()[[0, 1, 3]], 4)}, torchdiffeq "
          f"{np.round(cb.flatten()[[0, 1, 3]], 4)}; max |z| mean {z_mean.max():.2f}, cov {z_cov.max():.2f}")
EOF
echo
"$python" - "$results" "$threads" <<'EOF'
import statistics
import sys

rows = [line.rstrip("\n").split("|") for line in open(sys.argv[1])]
keys = []
for kind, task, *_ in rows:
    if (kind, task) not in keys:
        keys.append((kind, task))

def med(kind, task, side, col):
    values = [float(r[col]) for r in rows if r[0] == kind and r[1] == task and r[2] == side and r[col] != ""]
    return statistics.median(values) if values else float("nan")

print(f"medians, {sys.argv[2]} thread(s) each side; flowlab_s: flowlab's own timer (sampling) or wall clock minus"
      " the trivial command's (nll); ratio = torchdiffeq_s / flowlab_s")
print(f"{'task':<8}{'solver':<14}{'flowlab_NFE':>12}{'tdq_NFE':>9}{'flowlab_s':>11}{'fl_wall-startup_s':>19}"
      f"{'torchdiffeq_s':>15}{'ratio':>8}{'flowlab_NLL':>13}{'tdq_NLL':>11}")
for kind, task in keys:
    own = med(kind, task, "flowlab", 3)
    net = med(kind, task, "flowlab", 4)
    fl = own if kind == "sample" else net
    py = med(kind, task, "torchdiffeq", 3)
    line = (f"{kind:<8}{task:<14}{med(kind, task, 'flowlab', 5):>12.0f}{med(kind, task, 'torchdiffeq', 5):>9.0f}"
            f"{(f'{own:.3f}' if own == own else '-'):>11}{net:>19.3f}{py:>15.3f}{py / fl:>8.2f}")
    if kind == "nll":
        line += f"{med(kind, task, 'flowlab', 6):>13.6f}{med(kind, task, 'torchdiffeq', 6):>11.6f}"
    print(line)
EOF
