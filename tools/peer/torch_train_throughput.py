#!/usr/bin/env python3
"""Training throughput of the same model and recipe in PyTorch CPU (a peer, never a dependency).

    /tmp/tv/bin/python tools/peer/torch_train_throughput.py [--model resnet20] [--size 28] [--channels 1]
                                                            [--classes 10] [--batch 64] [--threads 2] [--steps 60]

Builds the CIFAR ResNet exactly as Sources/LSSKDModels defines it (BasicBlock, 1x1 conv + BN
projection shortcut where the shape changes; 16/32/64 channels), then times SGD steps
(momentum 0.9, weight decay 5e-4, cross-entropy) on random data of the dataset's shape and
prints images/s: data loading is excluded, as it overlaps the step in lsskd too. Runs with
channels_last when that is faster (it tries both).
"""
import argparse
import os
import statistics
import sys
import time

TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"
if os.environ.get("GLIBC_TUNABLES") != TUNABLES:
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, GLIBC_TUNABLES=TUNABLES))

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class CifarResNet(nn.Module):
    def __init__(self, n, widths, in_channels, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            for b in range(n):
                layers.append(BasicBlock(cin, w, 2 if (i > 0 and b == 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


MODELS = {"resnet20": (3, [16, 32, 64]), "resnet32": (5, [16, 32, 64]), "resnet56": (9, [16, 32, 64]),
          "resnet8x4": (1, [64, 128, 256])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet20", choices=sorted(MODELS))
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n, widths = MODELS[a.model]
    results = {}
    for layout in ["contiguous", "channels_last"]:
        model = CifarResNet(n, widths, a.channels, a.classes)
        x = torch.randn(a.batch, a.channels, a.size, a.size)
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, a.classes, (a.batch,))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        times = []
        for step in range(a.steps + 5):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
            if step >= 5:
                times.append(time.perf_counter() - t0)
        results[layout] = a.batch / statistics.median(times)
    best = max(results, key=results.get)
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__} {a.model} ({params} params) {a.channels}x{a.size}x{a.size}, batch {a.batch}, "
          f"{a.threads} threads: " + ", ".join(f"{k} {v:.0f} img/s" for k, v in results.items()) + f"; best {best}")


if __name__ == "__main__":
    main()
