#!/usr/bin/env python3
"""Compares the trained state of two runs: checkpoints (RUN/checkpoint.lsk) or exported state
dictionaries (lsskd export --format safetensors).

    compare_weights.py A B [--tolerance T] [--memory-tolerance M] [--expect-differ]

Checkpoints: the model's and the auxiliary branches' parameters and buffers (model.*, aux.*)
are the weights; the per-sample memories (method.memory.*: half-precision values unpacked)
are compared on their own (written flags exactly, values with M), since a memory row that
did not reach rank 0 shows there at once.

The measure: ||a - b|| / ||b|| over the whole state (every tensor's values in one vector);
the worst tensors by the same measure are printed too. Why not per tensor: batch-norm biases
start at 0 and their gradients are small differences of large sums, so after a few steps a
rounding-level perturbation (even one thread more) moves them by several percent of their
tiny size while every weight agrees to 1e-4 (docs/distributed.md gives the figures). Prints the worst tensors; exits 1 if
any exceeds T (or, with --expect-differ, if none does: a negative control showing that the
comparison can fail). Pure Python (no numpy), so the test needs nothing installed.
"""
import argparse
import array
import json
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {entry['dtype']}, expected F32")
        lo, hi = entry["data_offsets"]
        a = array.array("f")
        a.frombytes(data[base + lo:base + hi])
        if sys.byteorder != "little":
            a.byteswap()
        out[name] = a
    return out


def read_checkpoint(path):
    """The tensors of a .lsk container (docs/model-format.md), as {name: array('f')}, and
    the run's memory precision."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"LSSKDARC":
        sys.exit(f"{path}: not an lsskd archive")
    (length,) = struct.unpack("<Q", data[16:24])
    header = json.loads(data[24:24 + length])
    base = (24 + length + 63) // 64 * 64
    out = {}
    for t in header["tensors"]:
        a = array.array("f")
        lo = base + t["offset"]
        a.frombytes(data[lo:lo + 4 * t["count"]])
        if sys.byteorder != "little":
            a.byteswap()
        out[t["name"]] = a
    record = json.loads(header["metadata"].get("run_record", "{}") or "{}")
    precision = record.get("options", {}).get("memory-precision", "half")
    return out, precision


def read_state(path):
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic == b"LSSKDARC":
        tensors, precision = read_checkpoint(path)
        weights = {k: v for k, v in tensors.items() if k.startswith(("model.", "aux."))}
        memories = {}
        for k, v in tensors.items():
            if k.startswith("method.memory.") and k.endswith(".values") and precision == "half":
                raw = v.tobytes()
                memories[k] = array.array("f", struct.unpack(f"<{len(raw) // 2}e", raw))
            elif k.startswith("method.memory."):
                memories[k] = v
        return weights, memories
    return read_safetensors(path), {}


def relative_l2(x, y):
    norm = sum(v * v for v in y) ** 0.5 or 1.0
    diff = sum((p - q) ** 2 for p, q in zip(x, y)) ** 0.5
    return float("inf") if diff != diff else diff / norm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--memory-tolerance", type=float, default=1e-2)
    ap.add_argument("--expect-differ", action="store_true")
    args = ap.parse_args()
    (a, mem_a), (b, mem_b) = read_state(args.a), read_state(args.b)
    memory_failed = False
    if sorted(mem_a) != sorted(mem_b):
        sys.exit(f"the runs hold different memories: {sorted(mem_a)} against {sorted(mem_b)}")
    for name in sorted(mem_a):
        x, y = mem_a[name], mem_b[name]
        if name.endswith(".written"):
            missing = sum(1 for p, q in zip(x, y) if p != q)
            print(f"memory {name}: {int(sum(x))} and {int(sum(y))} of {len(x)} rows written, {missing} flags differ")
            memory_failed |= missing > 0
        else:
            rel = relative_l2(x, y)
            print(f"memory {name}: relative L2 difference {rel:.3g} (tolerance {args.memory_tolerance:g})")
            memory_failed |= rel > args.memory_tolerance
    if sorted(a) != sorted(b):
        sys.exit(f"the files hold different tensors: {sorted(set(a) ^ set(b))}")
    rows = []
    total_diff = total_norm = 0.0
    for name in sorted(a):
        x, y = a[name], b[name]
        if len(x) != len(y):
            sys.exit(f"{name}: {len(x)} values against {len(y)}")
        # Relative L2 distance per tensor: ||a - b|| / ||b||.
        norm = sum(v * v for v in y) ** 0.5 or 1.0
        diff = sum((p - q) ** 2 for p, q in zip(x, y)) ** 0.5
        if diff != diff:  # NaN
            diff = float("inf")
        rows.append((diff / norm, diff, name))
        total_diff += diff * diff
        total_norm += norm * norm
    rows.sort(reverse=True)
    overall = (total_diff / (total_norm or 1.0)) ** 0.5
    exact = sum(1 for r in rows if r[1] == 0)
    print(f"{len(rows)} tensors, {exact} bit-identical; relative L2 difference of the whole state {overall:.3g} (tolerance {args.tolerance:g}); worst tensors:")
    for rel, diff, name in rows[:5]:
        print(f"  {name}: ||a-b|| {diff:.3g}, relative {rel:.3g}")
    failed = overall > args.tolerance or memory_failed
    if args.expect_differ:
        if not failed:
            sys.exit("expected a difference above the tolerance (negative control), found none")
        print("differs as expected (negative control)")
        return
    if failed:
        sys.exit("the runs differ by more than the tolerances")


if __name__ == "__main__":
    main()
