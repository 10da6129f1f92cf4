#!/usr/bin/env bash
# The project's test command: C kernel suite (gcc build, no Swift), then `swift test` (whose
# TensorBoard test reads event files back with the tensorboard package of .build/testenv),
# then the MPI data-parallel tests (tools/test-mpi.sh; builds the release binary if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# Test-only Python packages, in a virtual environment (never needed by the product):
# tensorboard reads back the event files, onnx + onnxruntime run the ONNX exports, safetensors
# reads the safetensors exports.
if [[ ! -x .build/testenv/bin/python ]] || ! .build/testenv/bin/python -c "import tensorboard, onnx, onnxruntime, safetensors, numpy" 2>/dev/null; then
  echo "test: installing the test-only Python packages into .build/testenv (tensorboard, onnx, onnxruntime, safetensors, numpy)"
  mkdir -p .build
  /usr/bin/python3 -m venv .build/testenv
  .build/testenv/bin/pip install -q tensorboard onnx onnxruntime safetensors numpy
fi
make -C kernels -j2 test
swift test
# Data-parallel training over MPI: K=2 against K=1, two hosts (network namespaces), a killed rank.
tools/test-mpi.sh
