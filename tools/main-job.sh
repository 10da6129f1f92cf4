#!/usr/bin/env bash
# The main job, from a fresh clone: install what is needed, build, train resnet20 on the full
# Fashion-MNIST training set (Debian's dataset-fashion-mnist, 60,000 images) for 5 epochs with
# every other flag at its default, then evaluate the checkpoint on the 10,000 test images.
# About 7 minutes on 2 cores (measured from a clean clone: docs/training.md). Extra arguments go to `lsskd train`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build -c release --product lsskd
.build/release/lsskd train --out runs/main "$@"
.build/release/lsskd eval runs/main/checkpoint.lsk
