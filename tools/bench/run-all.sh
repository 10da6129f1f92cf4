#!/usr/bin/env bash
# Builds the kernel benchmarks (same -O2 as the SwiftPM build) and runs every family next to
# PyTorch CPU, 1 and 2 threads, printing a markdown table (docs/benchmarks.md is made from it).
# Run it with nothing else on the machine: a background job skews timings by up to 50x.
#   tools/bench/run-all.sh [family ...]      families: peak gemm conv nn (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s -C kernels BUILD=build-bench bench >/dev/null
if [[ ! -x /tmp/tv/bin/python ]]; then
  python3 -m venv /tmp/tv && /tmp/tv/bin/pip install -q /opt/wheels/torch-*.whl
fi
/tmp/tv/bin/python tools/bench/compare_torch.py --bench kernels/build-bench/lsk_bench --markdown "$@"
