#!/usr/bin/env python3
"""Inference speed of the C runtime (include/lsk_model.h) against PyTorch eval and ONNX Runtime
on the same model, in one run (issue 12): batch-1 latency and batch-64 throughput, 1 and 2
threads, interleaved rounds (ours, torch, ort, ours, ...), medians. Prints the CPU model and our
ISA first, then per (model, batch, threads): milliseconds per batch of each (median of the rounds,
and each one's best round), the ratios, and our weight and arena bytes; then the bytes the runtime adds to a statically linked program.

Models: resnet20, wrn_16_2, ShuffleV2, MobileNetV2 (100 classes, 3x32x32). Ours and ONNX
Runtime run the file `lsskd export` writes (lskm and --format onnx of one checkpoint: a
1-epoch run on 64 tin100 images — weights do not change the time); PyTorch runs
tools/peer/cifar_models.py's same architecture (parameter counts equal) under
torch.inference_mode(), in its faster layout (channels_last or contiguous, measured), with the
tuned glibc malloc of docs/benchmarks.md. Pause the experiment queue first.

OpenMP wait policy: ours and PyTorch (both GNU OpenMP) run with OMP_WAIT_POLICY=active unless
--omp-wait says otherwise: ONNX Runtime's own thread pool spins between operators by default,
and with libgomp's default (spin a while, then sleep) a 2-thread batch-1 run on this 2-vCPU VM
fell, in some processes, into waking the worker from sleep at every operator (ShuffleV2:
1.3 ms or 3.2 ms per image from run to run; active: 1.3 ms every run; docs/model-format.md).

    python3 tools/bench/infer_bench.py [--models resnet20,...] [--threads 1,2] [--rounds 3]
        [--python /tmp/tv/bin/python]   (a venv with torch, onnxruntime, numpy)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MALLOC = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"

PEER = r'''
import json, sys, time
sys.path.insert(0, "tools/peer")
import numpy as np, torch, onnxruntime as ort
import cifar_models
arch, onnx_path, batch, threads, iters, which = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
torch.set_num_threads(threads)
x = np.random.default_rng(0).random((batch, 3, 32, 32), dtype=np.float32)
def timed(f):
    for _ in range(3 + iters // 10): f()
    t = []
    for _ in range(iters):
        t0 = time.perf_counter(); f(); t.append((time.perf_counter() - t0) * 1e3)
    return sorted(t)[len(t) // 2]
out = {}
if which == "torch":
    make = {"resnet20": cifar_models.resnet20, "wrn_16_2": cifar_models.wrn_16_2, "ShuffleV2": cifar_models.shufflev2,
            "MobileNetV2": cifar_models.mobilenetv2}[arch]
    m = make(3, 100).eval()
    best = None
    for layout in ("contiguous", "channels_last"):
        mm = m.to(memory_format=torch.channels_last) if layout == "channels_last" else m
        xt = torch.from_numpy(x)
        if layout == "channels_last": xt = xt.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            ms = timed(lambda: mm(xt))
        if best is None or ms < best[0]: best = (ms, layout)
    out = {"median_ms": best[0], "layout": best[1], "torch": torch.__version__}
else:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    out = {"median_ms": timed(lambda: s.run(["logits"], {"images": x})), "ort": ort.__version__}
print(json.dumps(out))
'''


def run(argv, env=None):
    p = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{p.stdout[-1500:]}{p.stderr[-1500:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="resnet20,wrn_16_2,ShuffleV2,MobileNetV2")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python", default="/tmp/tv/bin/python")
    ap.add_argument("--binary", default=os.path.join(REPO, ".build/release/lsskd"))
    ap.add_argument("--omp-wait", default="active", help="OMP_WAIT_POLICY for ours and PyTorch ('' = libgomp's default)")
    a = ap.parse_args()
    run(["make", "-s", "-C", "kernels", "build/infer_bench"])
    bench = os.path.join(REPO, "kernels/build/infer_bench")
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    env = dict(os.environ, GLIBC_TUNABLES=MALLOC)
    if a.omp_wait:
        env["OMP_WAIT_POLICY"] = a.omp_wait
    with tempfile.TemporaryDirectory() as d:
        files = {}
        for m in a.models.split(","):
            run([a.binary, "train", "--model", m, "--data", "cifar100:../shared/data/tin100-A-32", "--train-limit", "64",
                 "--batch", "32", "--epochs", "1", "--threads", "2", "--out", f"{d}/{m}"])
            run([a.binary, "export", f"{d}/{m}/checkpoint.lsk", "--output", f"{d}/{m}.lskm"])
            run([a.binary, "export", f"{d}/{m}/checkpoint.lsk", "--format", "onnx", "--output", f"{d}/{m}.onnx"])
            files[m] = (f"{d}/{m}.lskm", f"{d}/{m}.onnx")
        isa = json.loads(run([bench, files[a.models.split(",")[0]][0], "1", "3", "1"]))["isa"]
        print(f"CPU: {cpu}; our ISA: {isa}; {a.rounds} rounds, medians; OMP_WAIT_POLICY={a.omp_wait or '(default)'} "
              f"for ours and PyTorch")
        print(f"{'model':12} {'batch':>5} {'thr':>3} {'ours ms':>9} {'torch ms':>9} {'ort ms':>9} {'ours/torch':>10} {'ours/ort':>9}  weights+arena")
        rows = []
        for m in a.models.split(","):
            for batch in (int(b) for b in a.batches.split(",")):
                iters = 200 if batch == 1 else 20
                for t in (int(x) for x in a.threads.split(",")):
                    o, p, r = [], [], []
                    info = {}
                    for _ in range(a.rounds):
                        info = json.loads(run([bench, files[m][0], str(batch), str(iters), str(t)], env=env))
                        o.append(info["median_ms"])
                        pt = json.loads(run([a.python, "-c", PEER, m, files[m][1], str(batch), str(t), str(iters), "torch"], env=env))
                        p.append(pt["median_ms"])
                        r.append(json.loads(run([a.python, "-c", PEER, m, files[m][1], str(batch), str(t), str(iters), "ort"], env=env))["median_ms"])
                    mo, mp, mr = statistics.median(o), statistics.median(p), statistics.median(r)
                    bo, bp, br = min(o), min(p), min(r)  # each one's best round (the VM's quiet moments)
                    rows.append({"model": m, "batch": batch, "threads": t, "ours_ms": mo, "torch_ms": mp, "ort_ms": mr,
                                 "ours_best_ms": bo, "torch_best_ms": bp, "ort_best_ms": br, "rounds": {"ours": o, "torch": p, "ort": r},
                                 "torch_layout": pt["layout"], "weight_bytes": info["weight_bytes"], "arena_bytes": info["arena_bytes"]})
                    print(f"{m:12} {batch:5} {t:3} {mo:9.3f} {mp:9.3f} {mr:9.3f} {mo / mp:10.2f} {mo / mr:9.2f}  "
                          f"best rounds {bo:.3f} / {bp:.3f} / {br:.3f} ms: {bo / bp:.2f} {bo / br:.2f}  "
                          f"{info['weight_bytes'] / 1e6:.2f} MB + {info['arena_bytes'] / 1e6:.2f} MB  (torch {pt['layout']})", flush=True)
        # Bytes the runtime adds to a static program: the same program with and without its calls.
        src = os.path.join(d, "empty.c")
        open(src, "w").write("int main(void) { return 0; }\n")
        run(["gcc", "-O2", "-static", "-s", src, "-o", f"{d}/empty"])
        run(["gcc", "-O2", "-static", "-s", "-std=c99", "-Iinclude", "tools/runtime_logits.c", "kernels/build/liblsk.a", "-fopenmp",
             "-lm", "-o", f"{d}/with_runtime"])
        sizes = [os.path.getsize(f"{d}/{n}") for n in ("empty", "with_runtime")]
        print(f"static program (gcc -O2 -static -s: stripped, OpenMP included): {sizes[0]} bytes empty, {sizes[1]} with the runtime "
              f"(tools/runtime_logits.c): the runtime and the kernels add {sizes[1] - sizes[0]} bytes")
        print("JSON " + json.dumps({"cpu": cpu, "isa": isa, "omp_wait_policy": a.omp_wait, "rows": rows,
                                    "static_bytes_added": sizes[1] - sizes[0]}))


if __name__ == "__main__":
    main()
