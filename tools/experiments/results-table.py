#!/usr/bin/env python3
"""Markdown tables for docs/RESULTS.md from the runs of tools/experiments/results-queue.sh.

Reads runs/results/<dataset>/<method>-s<seed>/{command,metrics.jsonl} and prints, per dataset:
  1. one row per method: final test top-1 and ECE (mean and per seed), final training top-1
     (the overfitting check), the train-test gap, and training images/s (median over epochs);
  2. one row per run with its exact command;
  3. first-epoch loss terms per method (seed 0), each with its share of the sum of magnitudes.
Usage: tools/experiments/results-table.py [runs/results]
"""
import json
import os
import statistics
import sys

METHOD_ORDER = ["ce", "ls", "pskd", "cskd", "tfkd", "sad", "lsskd", "kd"]


def load_runs(root):
    runs = {}
    for dataset in sorted(os.listdir(root)):
        ddir = os.path.join(root, dataset)
        if dataset == "bin" or not os.path.isdir(ddir):
            continue
        for name in sorted(os.listdir(ddir)):
            rdir = os.path.join(ddir, name)
            metrics = os.path.join(rdir, "metrics.jsonl")
            if not os.path.isfile(os.path.join(rdir, "done")) or not os.path.isfile(metrics):
                continue
            method, seed = name.rsplit("-s", 1)
            with open(metrics) as f:
                epochs = [json.loads(line) for line in f if line.strip()]
            with open(os.path.join(rdir, "command")) as f:
                command = f.read().strip()
            runs.setdefault(dataset, {}).setdefault(method, []).append((int(seed), epochs, command))
    return runs


def pct(x):
    return f"{100 * x:.2f}"


def mean_sd(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/results"
    runs = load_runs(root)
    for dataset, methods in runs.items():
        order = sorted(methods, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 99)
        print(f"### {dataset}\n")
        print("| method | seeds | test top-1 % (mean ± sd) | per seed | ECE (mean) | train top-1 % | train − test | img/s (median) |")
        print("|---|---|---|---|---|---|---|---|")
        for m in order:
            rs = sorted(methods[m])
            top1 = [100 * r[1][-1]["test"]["top1"] for r in rs]
            ece = [r[1][-1]["test"]["ece"] for r in rs]
            train = [100 * r[1][-1]["trainTop1"] for r in rs]
            ips = [statistics.median(e["imagesPerSecond"] for e in r[1]) for r in rs]
            gap = [a - b for a, b in zip(train, top1)]
            print(f"| {m} | {','.join(str(r[0]) for r in rs)} | {mean_sd(top1)} | "
                  f"{' / '.join(f'{t:.2f}' for t in top1)} | {statistics.mean(ece):.4f} | {mean_sd(train)} | "
                  f"{statistics.mean(gap):+.2f} | {statistics.mean(ips):.0f} |")
        print("\nRuns (epochs completed, final test top-1, top-5, ECE; exact command):\n")
        print("| run | epochs | top-1 % | top-5 % | ECE | command |")
        print("|---|---|---|---|---|---|")
        for m in order:
            for seed, eps, cmd in sorted(methods[m]):
                t = eps[-1]["test"]
                print(f"| {m}-s{seed} | {len(eps)} | {pct(t['top1'])} | {pct(t['top5'])} | {t['ece']:.4f} | `{cmd}` |")
        print("\nFirst-epoch loss terms (seed 0; mean over the epoch's batches, share of the sum of magnitudes):\n")
        print("| method | terms |")
        print("|---|---|")
        for m in order:
            rs = sorted(methods[m])
            terms = rs[0][1][0]["terms"]
            total = sum(abs(v) for v in terms.values()) or 1.0
            desc = ", ".join(f"{k} {v:.4f} ({100 * abs(v) / total:.0f}%)" for k, v in terms.items())
            print(f"| {m} | {desc} |")
        print()


if __name__ == "__main__":
    main()
