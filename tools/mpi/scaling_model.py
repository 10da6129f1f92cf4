#!/usr/bin/env python3
"""The scaling model of docs/distributed.md, built from the measurements of tools/mpi/measure.sh
(docs/distributed/*.txt).

    scaling_model.py docs/distributed [--latency-us 30]

Per step of the paper's recipe (global batch 64, 240 epochs x 50,000 images = 187,500 steps):
  compute(K)   = (64/K) / rate(64/K)   the measured images/s of one 2-thread process at the
                                       per-rank batch (batches below 8: the batch-8 rate)
  allreduce(K) = 2 (K-1)/K * S / B + 2 (K-1) * a      ring all-reduce of the S-byte gradient
  memories(K)  = (K-1)/K * R / B + (K-1) * a           ring all-gather of the R bytes of memory
                                                       rows one step writes (LSSKD, half)
  step(K) = compute + allreduce + memories (no overlap: the trainer reduces after backward);
  efficiency(K) = step(1) / (K * step(K)) (above 100% where a smaller per-rank batch runs
  faster per image: it fits the caches better); compute share = compute / step, the efficiency
  the communication alone leaves (what a K-fold faster compute would give). Link bandwidth B = 10 or 25 Gbit/s, latency a per
message (an assumption: the TCP latency of a data-centre Ethernet link; not measured here).
"""
import argparse
import os
import re

STEPS = 240 * 50000 // 64
# Bytes of memory rows one step writes for LSSKD with 100 classes in half precision: per sample
# 8 (index) + final (1 + 100 x 2) + 3 branches x (1 + 16 x 100 x 2) (DataParallel's records).
ROW_BYTES = 8 + (1 + 200) + 3 * (1 + 3200)
GRADIENT_FLOATS = {"resnet20": 1041316, "wrn_16_2": 2631588}


def rates(folder):
    out = {}
    for line in open(os.path.join(folder, "batch.txt")):
        m = re.match(r"(\S+) lsskd batch (\d+) threads 2 images/s ([\d.]+)", line)
        if m:
            out[(m.group(1), int(m.group(2)))] = float(m.group(3))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--latency-us", type=float, default=30.0)
    args = ap.parse_args()
    r = rates(args.folder)
    a = args.latency_us * 1e-6
    print(f"| model | link | K | per-rank batch | compute ms | all-reduce ms | memories ms | step ms | efficiency | compute share | recipe wall time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model, floats in GRADIENT_FLOATS.items():
        s = floats * 4
        for gbit in (10, 25):
            bw = gbit * 1e9 / 8
            base = None
            for k in (1, 2, 4, 8, 16, 32, 64):
                b = 64 // k
                rate = r[(model, max(b, 8))] if b < 8 else r[(model, b)]
                compute = b / rate
                ar = 0 if k == 1 else 2 * (k - 1) / k * s / bw + 2 * (k - 1) * a
                mem = 0 if k == 1 else (k - 1) / k * 64 * ROW_BYTES / bw + (k - 1) * a
                step = compute + ar + mem
                base = base or step
                eff = base / (k * step)
                hours = STEPS * step / 3600
                print(f"| {model} | {gbit} Gbit/s | {k} | {b} | {compute * 1e3:.1f} | {ar * 1e3:.2f} | {mem * 1e3:.2f} | "
                      f"{step * 1e3:.1f} | {100 * eff:.0f}% | {100 * compute / step:.0f}% | {hours:.1f} h |")


if __name__ == "__main__":
    main()
