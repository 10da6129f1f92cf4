#!/usr/bin/env python3
"""Reads a run's TensorBoard events (RUN/tb) with TensorBoard's own reader and checks them
against RUN/metrics.jsonl: every epoch's train/loss, train/top1 and, where evaluated, the
eval top-1 at step epoch+1 (float32 precision). Test-only: needs the `tensorboard` package
(tools/setup.sh installs it into .build/testenv). Usage: check_tensorboard.py RUN"""
import json
import math
import os
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main():
    run = sys.argv[1]
    acc = EventAccumulator(os.path.join(run, "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    with open(os.path.join(run, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    checks = 0
    for key, tag in (("trainLoss", "train/loss"), ("trainTop1", "train/top1")):
        if tag not in tags:
            sys.exit(f"FAIL: no {tag} in {sorted(tags)}")
        events = {e.step: e.value for e in acc.Scalars(tag)}
        for r in rows:
            got = events.get(r["epoch"] + 1)
            if got is None or not math.isclose(got, r[key], rel_tol=1e-6, abs_tol=1e-6):
                sys.exit(f"FAIL: {tag} at step {r['epoch'] + 1}: events {got}, metrics {r[key]}")
            checks += 1
    evaluated = [r for r in rows if r.get("test")]
    tag = f"{evaluated[-1]['evalSet']}/top1" if evaluated else None
    if tag:
        events = {e.step: e.value for e in acc.Scalars(tag)}
        for r in evaluated:
            if not math.isclose(events.get(r["epoch"] + 1, float("nan")), r["test"]["top1"], rel_tol=1e-6):
                sys.exit(f"FAIL: {tag} at step {r['epoch'] + 1}")
            checks += 1
    if len(acc.Scalars("train/loss")) != len(rows):
        sys.exit(f"FAIL: {len(acc.Scalars('train/loss'))} train/loss events for {len(rows)} epochs")
    print(f"tensorboard events: {checks} values match metrics.jsonl ({len(rows)} epochs, {len(tags)} tags)")


if __name__ == "__main__":
    main()
