#!/usr/bin/env bash
# The project's test command: C kernel suite (gcc build, no Swift), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
make -C kernels -j2 test
swift test
