#!/usr/bin/env bash
# Installs, builds, trains configs/toy/moons.yaml, samples, evaluates and
# writes runs/moons/plots/samples.png. Safe to run again: a finished run is
# resumed (nothing left to do) instead of retrained.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh --target flowlab   # the executable only; ./scripts/test.sh builds the tests
resume=()
if ls runs/moons/checkpoints/step_*.pt >/dev/null 2>&1; then resume=(--resume); fi
./build/flowlab train configs/toy/moons.yaml "${resume[@]}"
./build/flowlab sample runs/moons --plot runs/moons/plots/samples.png
./build/flowlab eval runs/moons --json runs/moons/eval.json
echo "quickstart: done; see runs/moons/plots/samples.png and runs/moons/eval.json"
