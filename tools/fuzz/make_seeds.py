#!/usr/bin/env python3
"""Seed inputs for the archive fuzz target: valid format-2 and format-1 archives written by
an independent writer (this script; zlib.crc32 is the format's CRC-32), small enough for
libFuzzer to mutate quickly. Usage: make_seeds.py OUTDIR"""
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


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
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
