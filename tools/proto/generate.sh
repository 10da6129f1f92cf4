#!/usr/bin/env bash
# Regenerates the Swift code of tools/proto/*.proto (commit the result; the build never runs
# protoc). Needs Debian's protobuf-compiler and protoc-gen-swift of the swift-protobuf version
# in Package.swift: build it from that package (swift build -c release --product protoc-gen-swift)
# and pass its path: tools/proto/generate.sh /path/to/protoc-gen-swift
#   tensorboard_event.proto  TensorBoard's event records (a subset, field numbers as upstream)
#   onnx.proto               ONNX's schema as shipped in the onnx 1.23.2 Python package
#                            (onnx/onnx.proto, Apache-2.0), unchanged
set -euo pipefail
cd "$(dirname "$0")/../.."
plugin=${1:?usage: tools/proto/generate.sh PATH/TO/protoc-gen-swift}
gen() {  # proto file, output folder
  mkdir -p "$2"
  protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal --swift_out="$2" -I tools/proto "tools/proto/$1"
  echo "generated $2/${1%.proto}.pb.swift"
}
gen tensorboard_event.proto Sources/LSSKDTrain/TensorBoard
gen onnx.proto Sources/LSSKDDeploy/ONNX
