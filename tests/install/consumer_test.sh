#!/usr/bin/env bash
# `cmake --install` of a flowlab build into a fresh prefix, then a project of its own that
# finds it with find_package(flowlab), builds, and samples from a run the installed flowlab
# binary trained. Usage: consumer_test.sh BUILD_DIR TORCH_DIR
set -euo pipefail
build=$1
torch_dir=$2
source_dir="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/flowlab"
test -f "$work/prefix/include/flowlab/train/run.h"
test -f "$work/prefix/lib/cmake/flowlab/flowlabConfig.cmake"
cmake -S "$source_dir/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DTorch_DIR="$torch_dir" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/prefix/bin/flowlab" train "$source_dir/../../configs/toy/moons.yaml" --set run.dir="$work/runs" \
  --set run.name=tiny --set train.steps=5 --set train.eval_every=0 --set run.threads=1 >/dev/null 2>&1
"$work/consumer/consumer" "$work/runs/tiny"
