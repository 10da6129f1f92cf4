#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time (default 60 s each) from a
# seed corpus of valid inputs:
#   archive  the checkpoint / model-file reader (Sources/LSSKDTrain/ArchiveLayout.swift)
#   dataset  the IDX and CIFAR decoders (Sources/LSSKDData/DatasetFormats.swift)
#   runtime  the C inference runtime's model loader (kernels/runtime, include/lsk_model.h),
#            clang -fsanitize=fuzzer,address,undefined over the C library without OpenMP
# Seeds: tools/fuzz/make_seeds.py (independent writers) and tools/fuzz/seeds/TARGET/ (real files).
# A finding is saved in tools/fuzz/regressions/TARGET/ (commit it: the Swift tests read every
# file there and require a clear error or a clean parse) and fails the run.
# Usage: tools/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
mkdir -p .build/fuzz
build() {  # NAME SOURCES...
  local name=$1; shift
  swiftc -sanitize=fuzzer,address -parse-as-library -I Sources/CZlib -lz "$@" -o ".build/fuzz/$name" 2> ".build/fuzz/$name-build.log" \
    || { cat ".build/fuzz/$name-build.log"; exit 1; }
}
build archive Sources/LSSKDTrain/ArchiveLayout.swift tools/fuzz/archive_fuzz.swift
build dataset Sources/LSSKDData/FileBytes.swift Sources/LSSKDData/DatasetFormats.swift tools/fuzz/dataset_fuzz.swift
clang -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c99 -O1 -g -Wno-unknown-pragmas -Iinclude \
    $(find kernels -path kernels/tests -prune -o -path 'kernels/build*' -prune -o -path kernels/mpi -prune -o -name '*.c' -print | sort) \
    tools/fuzz/runtime_fuzz.c -lm -o .build/fuzz/runtime 2> .build/fuzz/runtime-build.log \
  || { cat .build/fuzz/runtime-build.log; exit 1; }
for target in archive dataset runtime; do
  corpus=$(mktemp -d)
  mkdir -p "tools/fuzz/regressions/$target"
  python3 tools/fuzz/make_seeds.py "$target" "$corpus"
  cp "tools/fuzz/regressions/$target"/* "$corpus"/ 2>/dev/null || true
  cp tools/fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true  # real files (runtime: an lsskd export)
  ".build/fuzz/$target" -max_total_time="$seconds" -max_len=32768 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="tools/fuzz/regressions/$target/" "$corpus" > ".build/fuzz/$target.log" 2>&1 \
      || { tail -40 ".build/fuzz/$target.log"; echo "fuzz: $target FOUND A CRASH (saved in tools/fuzz/regressions/$target/)"; exit 1; }
  rm -rf "$corpus"
  echo "fuzz: $target, ${seconds} s, no finding ($(grep -oE "Done [0-9]+ runs" ".build/fuzz/$target.log" | tail -1))"
done
