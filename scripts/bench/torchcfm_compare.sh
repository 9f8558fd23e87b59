#!/usr/bin/env bash
# Training throughput against torchcfm: torchcfm's own 2-D training loop (8 Gaussians -> moons,
# scripts/bench/torchcfm_peer.py) and flowlab on the same problem, for plain CFM (sigma 0,
# independent pairs) and OT-CFM (exact minibatch OT), at MLP widths WIDTHS, interleaved.
# Prints steps/s over the second half of each run (medians of REPEATS), the ratio
# flowlab/torchcfm, and each side's mean loss over that half.
#
# Usage: scripts/bench/torchcfm_compare.sh [-n REPEATS] [STEPS] [THREADS] [WIDTHS]
#   -n REPEATS  interleaved repetitions of every run (default 3)
#   STEPS       training steps per run, even (default 2000); rates and losses over steps STEPS/2+1..STEPS
#   THREADS     intra-op threads of both sides (default 1): flowlab run.threads, torch.set_num_threads,
#               OMP_NUM_THREADS, MKL_NUM_THREADS
#   WIDTHS      hidden widths, e.g. "64 256" or 64,256 (default "64 256")
# Environment: FLOWLAB (binary, default build/flowlab), PYTHON (default .venv/bin/python, else
#   /usr/bin/python3; needs torchcfm and POT), VARIANTS (default "cfm otcfm"),
#   PEER_DATA (default "torchcfm vectorized": torchcfm.utils' samplers, whose sample_8gaussians loops
#   over the batch in Python, and the same laws drawn vectorized; each is a column),
#   PEER_ACT (selu: torchcfm.models.MLP as is, default; silu: flowlab's activation),
#   FLOWLAB_DATA (pool, default: flowlab draws with replacement from 2^17-point .npy pools drawn by
#   torchcfm's samplers, so both sides learn the same laws; toy2d: flowlab's own generators, eight
#   Gaussians matched exactly (scale 2.5, noise 0.1^(1/4)), moons only roughly (scale 3, noise 0.1,
#   centred: torchcfm's are shifted by (0.8, 0.05) with uniform noise along (1, 1))), KEEP=1 keeps the
#   scratch folder (printed).
#
# The flowlab side is configs/toy/8gaussians_to_moons.yaml (cfm) or 8gaussians_to_moons_ot.yaml
# (otcfm, coupling exact_ot) with: path {type: linear, gamma: zero} (sigma 0), model.hidden [W, W, W],
# activation silu, time_embedding identity (t concatenated as one feature), train.optimizer
# {type: adam, lr: 1e-3}, schedule constant, grad_clip 0, batch 256, log_every STEPS/2, eval off,
# one checkpoint at the end. Differences that remain: SiLU against torchcfm's SELU (PEER_ACT=silu gives
# the peer SiLU), flowlab's EMA update (always on: ema.decay must lie in [0, 1)), its gradient norm
# (computed every step for the log even with grad_clip 0; nothing is scaled), its OT coupling (a
# permutation of x0 by the optimal assignment, against torchcfm's 256 pairs drawn with replacement from
# the plan by np.random.choice), and the data draws (see FLOWLAB_DATA).
set -euo pipefail
cd "$(dirname "$0")/../.."

repeats=3
while getopts "n:h" opt; do
  case $opt in
    n) repeats=$OPTARG ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "torchcfm_compare.sh: bad option (see -h)" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
steps=${1:-2000}
threads=${2:-1}
widths=${3:-64 256}
widths=${widths//,/ }
flowlab=${FLOWLAB:-build/flowlab}
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=/usr/bin/python3; fi
fi
python=$PYTHON
variants=${VARIANTS:-cfm otcfm}
peer_data=${PEER_DATA:-torchcfm vectorized}
peer_act=${PEER_ACT:-selu}
flowlab_data=${FLOWLAB_DATA:-pool}

die() { echo "torchcfm_compare.sh: $*" >&2; exit 1; }
[ -x "$flowlab" ] || die "no flowlab binary at $flowlab (build it: scripts/build.sh, or set FLOWLAB)"
"$python" -c 'import torchcfm, ot' 2>/dev/null || die "$python lacks torchcfm or POT (set PYTHON)"
[ "$steps" -ge 2 ] && [ $((steps % 2)) -eq 0 ] || die "STEPS ($steps) must be even and >= 2"
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

tmp=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "scratch: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
results=$tmp/results

case $flowlab_data in
  pool)
    "$python" scripts/bench/torchcfm_peer.py --write-pools "$tmp" --seed 1 >/dev/null
    data_sets=(--set "data={type: npy, path: $tmp/data.npy}"
               --set "source={type: dataset, data: {type: npy, path: $tmp/source.npy}}") ;;
  toy2d)
    data_sets=(--set "data={type: toy2d, name: moons, scale: 3, noise: 0.1}"
               --set "source={type: dataset, data: {type: toy2d, name: eight_gaussians, scale: 2.5, noise: 0.5623413}}") ;;
  *) die "FLOWLAB_DATA must be pool or toy2d, got $flowlab_data" ;;
esac

echo "$("$flowlab" --version 2>/dev/null | head -n 1) ($flowlab); torch $("$python" -c 'import torch; print(torch.__version__)')," \
     "torchcfm $("$python" -c 'import torchcfm; print(torchcfm.__version__)'), POT $("$python" -c 'import ot; print(ot.__version__)')"
echo "threads $threads on both sides; $steps steps, batch 256, rates and losses over steps $((steps / 2 + 1))-$steps;" \
     "$repeats interleaved repeats; peer activation $peer_act, flowlab silu; flowlab data: $flowlab_data"
for r in $(seq 1 "$repeats"); do
  for variant in $variants; do
    case $variant in
      cfm) config=configs/toy/8gaussians_to_moons.yaml ;;
      otcfm) config=configs/toy/8gaussians_to_moons_ot.yaml ;;
      *) die "unknown variant $variant (cfm or otcfm)" ;;
    esac
    for width in $widths; do
      name=${variant}_w${width}_r$r
      "$flowlab" train "$config" --set run.dir="$tmp" --set run.name="$name" --set run.threads="$threads" \
        --set run.device=cpu "${data_sets[@]}" --set "path={type: linear, gamma: zero}" \
        --set "model.hidden=[$width, $width, $width]" --set model.activation=silu \
        --set "model.time_embedding={type: identity}" --set "train.optimizer={type: adam, lr: 1.0e-3}" \
        --set "train.schedule={type: constant}" --set train.grad_clip=0 --set train.batch_size=256 \
        --set train.steps="$steps" --set train.log_every=$((steps / 2)) --set train.eval_every=0 \
        --set train.checkpoint_every=0 >"$tmp/$name.log" 2>&1 ||
        { tail -n 20 "$tmp/$name.log" >&2; die "flowlab train failed ($name)"; }
      # The second log line covers the second half of the run, as the peer's window does.
      line=$(tail -n 1 "$tmp/$name/metrics.jsonl")
      rate=$(sed -E 's/.*"steps_per_s": ([0-9.e+-]+).*/\1/' <<<"$line")
      loss=$(sed -E 's/.*"loss_mean": ([0-9.e+-]+).*/\1/' <<<"$line")
      echo "$variant $width flowlab $rate $loss" >>"$results"
      printf "  [%d] %-5s w%-4s %-20s %8.1f steps/s  loss %.4f\n" "$r" "$variant" "$width" flowlab "$rate" "$loss"
      rm -rf "${tmp:?}/$name"
      for data in $peer_data; do
        out=$("$python" scripts/bench/torchcfm_peer.py --variant "$variant" --width "$width" --steps "$steps" \
          --threads "$threads" --data "$data" --activation "$peer_act") || die "peer failed ($variant, $width, $data)"
        read -r rate loss < <("$python" -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["steps_per_s"], d["loss_mean"])' "$out")
        echo "$variant $width torchcfm_$data $rate $loss" >>"$results"
        printf "  [%d] %-5s w%-4s %-20s %8.1f steps/s  loss %.4f\n" "$r" "$variant" "$width" "torchcfm ($data)" "$rate" "$loss"
      done
    done
  done
done

echo
"$python" - "$results" "$peer_data" <<'EOF'
import statistics
import sys

rows = [line.split() for line in open(sys.argv[1])]
peers = ["torchcfm_" + d for d in sys.argv[2].split()]
keys = []
for v, w, *_ in rows:
    if (v, w) not in keys:
        keys.append((v, w))

def median(v, w, side, col):
    values = [float(r[col]) for r in rows if r[0] == v and r[1] == w and r[2] == side]
    return statistics.median(values) if values else float("nan")

short = {"torchcfm_torchcfm": "tcfm", "torchcfm_vectorized": "tcfm_vec"}
head = f"{'variant':<8}{'width':>6}{'flowlab_it/s':>14}"
for p in peers:
    s = short.get(p, p)
    head += f"{s + '_it/s':>16}{'ratio_' + s:>16}"
head += f"{'flowlab_loss':>14}" + "".join(f"{short.get(p, p) + '_loss':>16}" for p in peers)
print("medians; ratio = flowlab / torchcfm steps/s; tcfm: torchcfm.utils samplers, tcfm_vec: the same laws vectorized")
print(head)
for v, w in keys:
    fl = median(v, w, "flowlab", 3)
    line = f"{v:<8}{w:>6}{fl:>14.1f}"
    for p in peers:
        pr = median(v, w, p, 3)
        line += f"{pr:>16.1f}{fl / pr:>16.2f}"
    line += f"{median(v, w, 'flowlab', 4):>14.4f}" + "".join(f"{median(v, w, p, 4):>16.4f}" for p in peers)
    print(line)
EOF
