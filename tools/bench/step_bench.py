#!/usr/bin/env python3
"""Training-step speed of ours against the PyTorch peer (issue 15), in one run, interleaved
(ours, peer, ours, peer…) over --rounds rounds; prints the CPU model and our kernel ISA on top,
then per (model, method, threads): median images/s of each, the ratio ours/peer and each
process's peak RSS.

Ours: one epoch of `lsskd train` on the first --images tin100-A-32 training images (batch 64,
no augmentation, so both sides do the same work; the held-out 2% is evaluated after the epoch
but not timed: images/s is the trainer's own figure for the epoch). Peer:
tools/peer/lsskd_peer.py (same model, parameter counts asserted, batch, thread count, its
faster layout, tuned glibc malloc). Pause the experiment queue first
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
                        "--train-limit", str(images), "--val-split", "0.02", "--augment", "none", "--epochs", "1",
                        "--batch", "64", "--threads", str(threads), "--out", os.path.join(d, "run")])
        with open(os.path.join(d, "run", "metrics.jsonl")) as f:
            rate = json.loads(f.readline())["imagesPerSecond"]
        isa = json.load(open(os.path.join(d, "run", "config.json")))["isa"]
    return rate, rss, isa


def peer(python, model, method, threads, images):
    out, rss = run([python, "tools/peer/lsskd_peer.py", "--model", model, "--method", method, "--threads", str(threads),
                    "--batch", "64", "--images", str(images), "--json"])
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    d = json.loads(line)
    rate = d["images_per_s"]
    return rate, rss, d.get("torch", "?"), d.get("layout", "?")


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
    rows = []
    header_done = False
    for model in a.models.split(","):
        for method in a.methods.split(","):
            for t in map(int, a.threads.split(",")):
                o_rates, p_rates, o_rss, p_rss = [], [], [], []
                for _ in range(a.rounds):
                    r, m, isa = ours(a.binary, model, method, t, a.images)
                    o_rates.append(r); o_rss.append(m)
                    r, m, torch_version, layout = peer(a.python, model, method, t, a.images)
                    p_rates.append(r); p_rss.append(m)
                if not header_done:
                    print(f"CPU: {cpu}, {os.cpu_count()} cores; our kernels: {isa}; peer: PyTorch {torch_version}; "
                          f"{a.images} images, batch 64, {a.rounds} interleaved rounds (medians)")
                    print(f"{'model':<10} {'method':<6} {'thr':>3} {'ours img/s':>11} {'peer img/s':>11} {'ratio':>6} "
                          f"{'RSS ours MB':>12} {'RSS peer MB':>12} layout")
                    header_done = True
                o, p = statistics.median(o_rates), statistics.median(p_rates)
                print(f"{model:<10} {method:<6} {t:>3} {o:>11.1f} {p:>11.1f} {o / p:>6.2f} {max(o_rss):>12.0f} {max(p_rss):>12.0f} {layout}",
                      flush=True)


if __name__ == "__main__":
    main()
