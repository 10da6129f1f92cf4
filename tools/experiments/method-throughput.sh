#!/usr/bin/env bash
# Training images/s of each method on a quiet machine: one epoch of the first 2,048 images of
# tin100-A-32 (resnet20, batch 64, the RESULTS.md settings), per thread count. Prints one line
# per (method, threads) with the trainer's own images/s (training only, evaluation excluded).
# Usage: tools/experiments/method-throughput.sh [LSSKD_BINARY] [DATA]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-.build/release/lsskd}
data=${2:-cifar100:../shared/data/tin100-A-32}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for threads in 1 2; do
  for method in ce pskd sad lsskd; do
    "$bin" train --method "$method" --model resnet20 --data "$data" --train-limit 2048 --epochs 1 \
        --threads "$threads" --out "$out/$method-$threads" > "$out/log" 2>&1
    ips=$(python3 -c "import json,sys; print(round(json.loads(open(sys.argv[1]).readline())['imagesPerSecond']))" \
        "$out/$method-$threads/metrics.jsonl")
    echo "method $method threads $threads images/s $ips"
  done
done
