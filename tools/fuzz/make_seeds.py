#!/usr/bin/env python3
"""Seed inputs for the fuzz targets, small enough for libFuzzer to mutate quickly:
  archive: valid format-2 and format-1 archives written by an independent writer (this
           script; zlib.crc32 is the format's CRC-32);
  dataset: valid IDX image+label pairs and CIFAR-10/100 records in the harness's framing;
  runtime: valid exported models for the C runtime (kind model, a runtime_graph using every
           operation of graph version 1, graph.* weights), written from docs/model-format.md.
Usage: make_seeds.py archive|dataset|runtime OUTDIR"""
import json
import os
import struct
import sys
import zlib


def archive(version, metadata, tensors):
    entries, data, offset = [], b"", 0
    for name, shape, values in tensors:
        raw = struct.pack(f"<{len(values)}f", *values)
        e = {"name": name, "shape": shape, "offset": offset, "count": len(values)}
        if version >= 2:
            e["crc32"] = zlib.crc32(raw)
        entries.append(e)
        padded = raw + b"\0" * ((64 - len(raw) % 64) % 64)
        data += padded
        offset += len(padded)
    header = {"metadata": metadata, "tensors": entries}
    if version >= 2:
        header["dataBytes"] = offset
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    prefix = b"LSSKDARC" + struct.pack("<II", version, zlib.crc32(h) if version >= 2 else 0) + struct.pack("<Q", len(h)) + h
    prefix += b"\0" * ((64 - len(prefix) % 64) % 64)
    return prefix + data


def dataset_seeds():
    def idx(n, h, w):
        images = struct.pack(">IIII", 0x803, n, h, w) + bytes((i * 37) % 256 for i in range(n * h * w))
        labels = struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))
        return b"\0" + struct.pack("<H", len(images)) + images + labels
    record10 = bytes([3]) + bytes(range(256)) * 12
    record100 = bytes([0, 42]) + bytes(range(256)) * 12
    return {"idx-2x3x3": idx(2, 3, 3), "idx-1x1x1": idx(1, 1, 1), "idx-empty": idx(0, 2, 2),
            "cifar10-2": b"\x01" + record10 * 2, "cifar100-1": b"\x03" + record100}


def runtime_seeds():
    meta = {"kind": "model", "epochs_trained": "1", "model": "simplecnn", "width": "4", "in_channels": "2", "classes": "3",
            "image_size": "6", "norm_mean": "0.5,0.4", "norm_std": "0.25,0.2", "method": "ce", "class_names": "a\nb\nc"}
    def t(name, shape):
        n = 1
        for d in shape:
            n *= d
        return ("graph." + name, shape, [((i * 7) % 11 - 5) / 10 for i in range(n)])
    plain = "\n".join([
        "lsk-graph 1", "input 0 2 6 6",
        "affine 1 0 scale=s shift=h relu=0",
        "conv 2 1 weight=w1 bias=b1 kernel=3 stride=1 pad=1 groups=1 relu=1",
        "conv 3 2 weight=w2 kernel=3 stride=1 pad=1 groups=2 residual=2 relu=1",
        "maxpool 4 3 kernel=2 stride=2 pad=0",
        "avgpool 5 4 kernel=3 stride=1 pad=1",
        "slice 6 5 start=0 end=2", "slice 7 5 start=2 end=4",
        "concat_shuffle 8 6 7 groups=2", "shuffle 9 8 groups=2",
        "add 10 9 5 relu=0", "relu 11 10", "concat 12 11 10 relu=1",
        "gap 13 12", "linear 14 13 weight=fc bias=fb relu=0", "output 14", ""])
    tensors = [t("s", [2]), t("h", [2]), t("w1", [4, 2, 3, 3]), t("b1", [4]), t("w2", [4, 2, 3, 3]), t("fc", [3, 8]), t("fb", [3])]
    small = "lsk-graph 1\ninput 0 2 6 6\ngap 1 0\nlinear 2 1 weight=fc\noutput 2\n"
    return {"rt-every-op.lskm": archive(2, dict(meta, runtime_graph=plain), tensors),
            "rt-linear.lskm": archive(2, dict(meta, runtime_graph=small), [t("fc", [3, 2])])}


def main():
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if target == "runtime":
        for name, blob in runtime_seeds().items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(blob)
        return
    if target == "dataset":
        for name, blob in dataset_seeds().items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(blob)
        return
    meta = {"kind": "checkpoint", "epochs_done": "1", "model": "simplecnn", "width": "4", "in_channels": "1", "classes": "4",
            "image_size": "8", "norm_mean": "0.5", "norm_std": "0.25", "method": "ce"}
    tensors = [("model.w", [2, 3], [1, -2, 3.5, 0, 1e-3, 7]), ("model.b", [3], [0.1, 0.2, 0.3]), ("optim.m", [0], []),
               ("method.memory.final.values", [5], [0.25] * 5)]
    seeds = {"v2-checkpoint.lsk": archive(2, meta, tensors), "v1-checkpoint.lsk": archive(1, meta, tensors),
             "v2-model.lsk": archive(2, dict(meta, kind="model"), tensors[:2]), "v2-empty.lsk": archive(2, {}, [])}
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
