#!/usr/bin/env bash
# Regenerates the Swift code of tools/proto/*.proto (commit the result; the build never runs
# protoc). Needs Debian's protobuf-compiler and protoc-gen-swift of the swift-protobuf version
# in Package.swift: build it from that package (swift build -c release --product protoc-gen-swift)
# and pass its path: tools/proto/generate.sh /path/to/protoc-gen-swift
set -euo pipefail
cd "$(dirname "$0")/../.."
plugin=${1:?usage: tools/proto/generate.sh PATH/TO/protoc-gen-swift}
out=Sources/LSSKDTrain/TensorBoard
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal --swift_out="$out" -I tools/proto tools/proto/tensorboard_event.proto
echo "generated $out/tensorboard_event.pb.swift"
