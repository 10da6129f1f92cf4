#!/usr/bin/env bash
# The main job, from a fresh clone: install what is needed, build, train resnet20 with LSSKD
# (4 rotations, one auxiliary branch per stage, progressive self-distillation; every LSSKD flag
# at its default) on a stratified 10% of the Fashion-MNIST training set (Debian's
# dataset-fashion-mnist, 6,000 of 60,000 images) for 5 epochs, evaluate the checkpoint on the
# 10,000 test images, export the backbone alone (branches and memories dropped) and evaluate the
# exported model, which must give the same numbers. Extra arguments go to `lsskd train`.
# Time and accuracy of a clean-clone run: docs/training.md.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build -c release --product lsskd
lsskd=.build/release/lsskd
$lsskd train --method lsskd --model resnet20 --data fashion-mnist:/usr/share/datasets/fashion-mnist \
    --fraction 0.1 --epochs 5 --seed 0 --out runs/main "$@"
$lsskd eval runs/main/checkpoint.lsk
$lsskd export runs/main/checkpoint.lsk --output runs/main/resnet20-fmnist.lskm
$lsskd eval runs/main/resnet20-fmnist.lskm
