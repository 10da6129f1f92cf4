#!/usr/bin/env bash
# Builds the libFuzzer target over the checkpoint/model-file reader and runs it for a bounded
# time (default 60 s) from a seed corpus of valid archives. A finding is saved in
# tools/fuzz/regressions/ (commit it: CheckpointTests.testFuzzRegressions reads every file
# there and requires a clear error or a clean parse) and fails the run.
# Usage: tools/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
mkdir -p .build/fuzz tools/fuzz/regressions
swiftc -sanitize=fuzzer,address -parse-as-library -I Sources/CZlib \
    Sources/LSSKDTrain/ArchiveLayout.swift tools/fuzz/archive_fuzz.swift -o .build/fuzz/archive 2> .build/fuzz/build.log \
    || { cat .build/fuzz/build.log; exit 1; }
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
python3 tools/fuzz/make_seeds.py "$corpus"
cp tools/fuzz/regressions/* "$corpus"/ 2>/dev/null || true
.build/fuzz/archive -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=tools/fuzz/regressions/ "$corpus" > .build/fuzz/run.log 2>&1 \
    || { tail -40 .build/fuzz/run.log; echo "fuzz: FOUND A CRASH (saved in tools/fuzz/regressions/)"; exit 1; }
grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" .build/fuzz/run.log | tail -1
echo "fuzz: archive reader, ${seconds} s, no finding"
