#!/usr/bin/env bash
# Runs one queue of the docs/RESULTS.md experiments: every method in METHODS for every seed in
# SEEDS on one dataset, one run after another, each in runs/results/<tag>/<method>-s<seed>.
# Usage: tools/experiments/results-queue.sh TAG DATA FRACTION EPOCHS THREADS "SEEDS" "METHODS"
# e.g.   tools/experiments/results-queue.sh tin100 cifar100:../shared/data/tin100-A-32 0.1 10 1 "0 1" "ce pskd sad lsskd"
# Finished runs (final line in log) are skipped, so the queue can be restarted.
set -euo pipefail
cd "$(dirname "$0")/../.."
# A private copy of the binary, so that rebuilding the tree while a queue runs changes nothing.
bin=runs/results/bin/lsskd
mkdir -p runs/results/bin
[ -x "$bin" ] || cp .build/release/lsskd "$bin"
tag=$1 data=$2 fraction=$3 epochs=$4 threads=$5 seeds=$6 methods=$7
for seed in $seeds; do
  for method in $methods; do
    out=runs/results/$tag/$method-s$seed
    if [ -f "$out/done" ]; then continue; fi
    mkdir -p "$out"
    cmd=(lsskd train --method "$method" --model resnet20 --data "$data"
         --fraction "$fraction" --epochs "$epochs" --seed "$seed" --threads "$threads" --out "$out")
    echo "${cmd[*]}" > "$out/command"
    "$bin" "${cmd[@]:1}" > "$out/log" 2>&1
    touch "$out/done"
  done
done
