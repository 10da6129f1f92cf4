#!/usr/bin/env python3
"""Training-step speed of ours against the PyTorch peer (issue 15), in one run, interleaved
(ours, peer, ours, peer…) over --rounds rounds; prints the CPU model and our kernel ISA on top,
then per (model, method, threads): median images/s of each, the ratio ours/peer, the step's
direct-convolution-equivalent FLOPs per image (counted by the peer with
torch.utils.flop_counter), our GFLOP/s from them and its fraction of the FMA peak that
`lsk_bench peak` measures in the same run (above 100% is possible: Winograd F(4x4, 3x3) does
4x fewer multiplications than the direct convolution it replaces), and each process's peak RSS.

Ours: two epochs of `lsskd train` on the first --images tin100-A-32 training images (batch
64, no augmentation, so both sides do the same work; the held-out 2% is evaluated after each
epoch but not timed); images/s is the trainer's own figure for the second epoch. Peer:
tools/peer/lsskd_peer.py (same model, parameter counts asserted, batch, thread count, its
faster layout, tuned glibc malloc), also two epochs, timing the second. Both sides are thus
timed in steady state: the first epoch pays for first-touch page faults, filter-transform and
pack caches, OpenMP start-up (ours) and the layout probe and allocator warm-up (the peer's),
which a real run pays once. Pause the experiment queue first
(`tools/experiments/campaign.py pause FILE`): figures from a busy machine are not comparable.

    python3 tools/bench/step_bench.py [--models resnet20,wrn_16_2] [--methods lsskd,ce]
        [--threads 1,2] [--images 1024] [--rounds 3] [--python /tmp/tv/bin/python]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(argv, cwd=REPO):
    """Runs argv; returns (stdout, peak RSS in MB) from the child's own rusage."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(argv)}\n{out[-2000:]}")
    return out, usage.ru_maxrss / 1024


def ours(binary, model, method, threads, images):
    with tempfile.TemporaryDirectory() as d:
        out, rss = run([binary, "train", "--method", method, "--model", model, "--data", "cifar100:../shared/data/tin100-A-32",
                        "--train-limit", str(images), "--val-split", "0.02", "--augment", "none", "--epochs", "2",
                        "--batch", "64", "--threads", str(threads), "--out", os.path.join(d, "run")])
        with open(os.path.join(d, "run", "metrics.jsonl")) as f:
            rate = [json.loads(l) for l in f if l.strip()][-1]["imagesPerSecond"]  # epoch 2
        isa = json.load(open(os.path.join(d, "run", "config.json")))["isa"]
    return rate, rss, isa


def peer(python, model, method, threads, images):
    out, rss = run([python, "tools/peer/lsskd_peer.py", "--model", model, "--method", method, "--threads", str(threads),
                    "--batch", "64", "--images", str(images), "--epochs", "2", "--warmup", str(images // 64), "--json",
                    "--count-flops"])
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    d = json.loads(line)
    rate = d["images_per_s"]
    return rate, rss, d.get("torch", "?"), d.get("layout", "?"), d["step_flops_per_image"]


def fma_peaks(threads):
    """{(isa, threads): GFLOP/s} of `lsk_bench peak` (independent FMA chains), this run."""
    bench = os.path.join(REPO, "kernels/build/lsk_bench")
    if not os.path.exists(bench):
        subprocess.run(["make", "-C", os.path.join(REPO, "kernels"), "-j2", "bench"], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([bench, "peak", "--threads", ",".join(map(str, threads))], capture_output=True, text=True,
                         check=True).stdout
    peaks = {}
    for l in out.splitlines():
        f = l.split()
        if f and f[0].startswith("peak_fma_"):
            t = int(next(x for x in f if x.startswith("thr="))[4:])
            peaks[(f[0][len("peak_fma_"):], t)] = float(f[f.index("GFLOP/s") - 1])
    return peaks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="resnet20,wrn_16_2")
    ap.add_argument("--methods", default="lsskd,ce")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--images", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(REPO, ".build/release/lsskd"))
    ap.add_argument("--python", default="/tmp/tv/bin/python")
    a = ap.parse_args()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    thread_counts = list(map(int, a.threads.split(",")))
    peaks = fma_peaks(thread_counts)
    header_done = False
    for model in a.models.split(","):
        for method in a.methods.split(","):
            for t in thread_counts:
                o_rates, p_rates, o_rss, p_rss = [], [], [], []
                for _ in range(a.rounds):
                    r, m, isa = ours(a.binary, model, method, t, a.images)
                    o_rates.append(r); o_rss.append(m)
                    r, m, torch_version, layout, flops = peer(a.python, model, method, t, a.images)
                    p_rates.append(r); p_rss.append(m)
                if not header_done:
                    print(f"CPU: {cpu}, {os.cpu_count()} cores; our kernels: {isa}; peer: PyTorch {torch_version}; "
                          f"{a.images} images, batch 64, {a.rounds} interleaved rounds (medians)")
                    print("FMA peak (lsk_bench peak, this run): " + ", ".join(
                        f"{t} thread{'s' if t > 1 else ''} {peaks[(isa, t)]:.1f} GFLOP/s" for t in thread_counts if (isa, t) in peaks))
                    print(f"{'model':<10} {'method':<6} {'thr':>3} {'ours img/s':>11} {'peer img/s':>11} {'ratio':>6} "
                          f"{'GFLOP/img':>9} {'ours GFLOP/s':>12} {'of peak':>7} {'RSS ours MB':>12} {'RSS peer MB':>12} layout")
                    header_done = True
                o, p = statistics.median(o_rates), statistics.median(p_rates)
                gflops = o * flops / 1e9
                peak = peaks.get((isa, t))
                print(f"{model:<10} {method:<6} {t:>3} {o:>11.1f} {p:>11.1f} {o / p:>6.2f} {flops / 1e9:>9.3f} {gflops:>12.1f} "
                      f"{(f'{100 * gflops / peak:.0f}%' if peak else '?'):>7} {max(o_rss):>12.0f} {max(p_rss):>12.0f} {layout}",
                      flush=True)


if __name__ == "__main__":
    main()
