#!/usr/bin/env python3
"""Time the C kernels and PyTorch CPU on the same shapes, in the same run, and print ratios.

    /tmp/tv/bin/python tools/bench/compare_torch.py [family ...] [--threads 1,2] [--bench PATH]
                                                    [--markdown] [--seconds S] [--only PREFIX]
                                                    [--rounds N]

family: peak gemm conv nn (default: all). The C side is `lsk_bench --json FAMILY`, built by
`make -C kernels OPT=-O3 bench` (or --bench). The peer side is tools/bench/peers/<family>.py, whose
cases(torch) yields (kernel, shape, fn) with the C bench's exact kernel and shape strings.
ratio = C time / PyTorch time (below 1 means the C kernel is faster).

PyTorch is a benchmark peer only. Run with nothing else on the machine, and with glibc's
malloc told not to unmap large blocks (PyTorch otherwise re-maps big tensors every call):
    GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184
This script sets that for itself (re-executing once) if it is missing.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load_peer(family):
    path = os.path.join(HERE, "peers", family + ".py")
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("peer_" + family, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def time_fn(fn, min_seconds, min_reps=5):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < min_seconds and len(times) < 1000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, len(times)


def main():
    if os.environ.get("GLIBC_TUNABLES") != TUNABLES:
        env = dict(os.environ, GLIBC_TUNABLES=TUNABLES)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    ap = argparse.ArgumentParser()
    ap.add_argument("families", nargs="*", default=["peak", "gemm", "conv", "nn"])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--bench", default=os.path.join(ROOT, "kernels", "build", "lsk_bench"))
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default="", help="only kernels whose name starts with this prefix")
    ap.add_argument("--rounds", type=int, default=1, help="repeat both sides; report the median over rounds")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]

    import torch

    # Each round times every C case, then every peer case; with --rounds N the reported time
    # of each side is the median over the rounds (a noisy host moves whole rounds).
    rounds_ours, rounds_theirs = {}, {}
    first = {}
    for _ in range(args.rounds):
        for family in args.families:
            only = ["--only", args.only] if args.only else []
            out = subprocess.run([args.bench, "--json", "--threads", args.threads, "--seconds", str(args.seconds),
                                  *only, family], check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                key = (r["kernel"], r["shape"], r["threads"])
                first.setdefault(key, r)
                rounds_ours.setdefault(key, []).append(r["median_ms"])
            peer = load_peer(family)
            if peer is not None:
                for t in threads:
                    torch.set_num_threads(t)
                    for kernel, shape, fn in peer.cases(torch, args.only):
                        if kernel.startswith(args.only):
                            rounds_theirs.setdefault((kernel, shape, t), []).append(time_fn(fn, args.seconds)[0])
    rows = []
    for key, r in first.items():
        ms = statistics.median(rounds_ours[key])
        scale = r["median_ms"] / ms if ms > 0 else 1.0  # rates follow the time
        r = dict(r, median_ms=ms, gflops=r["gflops"] * scale if r["gflops"] else 0,
                 gbps=r["gbps"] * scale if r["gbps"] else 0)
        theirs = rounds_theirs.get(key)
        r["torch_ms"] = statistics.median(theirs) if theirs else None
        rows.append(r)

    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
    print(f"# {cpu}, torch {torch.__version__}, GLIBC_TUNABLES set, medians ({args.rounds} round(s))")
    if args.markdown:
        print("| kernel | shape | threads | ISA | ms | GFLOP/s | GB/s | PyTorch ms | ratio |")
        print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tms = r["torch_ms"]
        ratio = f"{r['median_ms'] / tms:.2f}" if tms else "-"
        tstr = f"{tms:.4f}" if tms else "-"
        gf = f"{r['gflops']:.1f}" if r["gflops"] else "-"
        gb = f"{r['gbps']:.1f}" if r["gbps"] else "-"
        if args.markdown:
            print(f"| {r['kernel']} | {r['shape']} | {r['threads']} | {r['isa']} | {r['median_ms']:.4f} | {gf} | {gb} | {tstr} | {ratio} |")
        else:
            rate = f"{gf:>7} GFLOP/s" if r["gflops"] else f"{gb:>7} GB/s   "
            print(f"{r['kernel']:<22} {r['shape']:<28} thr={r['threads']} {r['isa']:<7} {r['median_ms']:10.4f} ms "
                  f"{rate}  torch {tstr:>10} ms  ratio {ratio}")


if __name__ == "__main__":
    main()
