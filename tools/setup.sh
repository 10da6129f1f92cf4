#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine (idempotent; quick when done).
#   libomp-dev            OpenMP runtime + headers for clang (Swift's C compiler)
#   zlib1g-dev            gzip-compressed dataset files
#   libpng-dev, libjpeg62-turbo-dev  PNG/JPEG images of folder datasets (--data folder:DIR)
#   dataset-fashion-mnist Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist (main job)
#   python3-venv          tools/test.sh puts the test-only Python packages (tensorboard, which reads
#                         back the event files in a test) into the virtual environment .build/testenv
#   libopenmpi-dev, openmpi-bin  MPI for data-parallel training (mpirun; the plugin
#                         kernels/build/liblsskd_mpi.so is built here) and its tests
#   iproute2              `ip netns`: the two test hosts of tools/test-mpi.sh
#   gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user-static: the C kernels' aarch64/NEON
#     build and its test run under emulation (only with --cross)
set -euo pipefail
packages=(libomp-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev dataset-fashion-mnist python3-venv libopenmpi-dev openmpi-bin iproute2)
if [[ "${1:-}" == "--cross" ]]; then
  packages+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The MPI plugin that `mpirun ... lsskd train` loads (docs/distributed.md); only MPI training
# needs it, so a machine without an MPI compiler wrapper just goes without.
if command -v mpicc >/dev/null; then
  make -s -C "$(dirname "$0")/../kernels" mpi
else
  echo "setup: no mpicc: the MPI plugin (data-parallel training) is not built"
fi
