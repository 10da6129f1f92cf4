#!/usr/bin/env python3
"""A queue of `lsskd train` runs that survives the end of a session.

A campaign file (JSON, e.g. tools/experiments/campaigns/results-v2.json) lists groups of runs;
each group crosses its variants (method + flags) with its seeds over shared arguments (data,
model, fraction, epochs...). This tool starts what is not finished, resumes what was
interrupted from its checkpoint (`lsskd train --resume` is exact), runs every trainer under
`nice -n 19` so interactive work keeps the CPU, and can be paused (SIGSTOP) and continued so
that a benchmark gets a quiet machine.

    campaign.py run FILE [--slots N] [--threads T] [--refresh-binary]   work through the queue (foreground)
    campaign.py start FILE ...        the same, detached (log in runs/campaigns/NAME/runner.log)
    campaign.py status FILE           done / running / left / failed, estimated CPU-hours left
    campaign.py pause FILE            stop the trainers where they are (SIGSTOP); no new run starts
    campaign.py continue FILE         let them go on (SIGCONT)
    campaign.py stop FILE             end the runner and its trainers (they resume from their
                                      last checkpoint next time; the epoch in progress is redone)
    campaign.py commands FILE         every run's exact command line
    campaign.py record FILE           copy each finished run's metrics.jsonl and config.json into
                                      docs/results/records/NAME/ (committed: the tables can be
                                      regenerated, and finished runs are not re-run, on a new machine)
    campaign.py carry FILE            copy each unfinished run's last checkpoint (with its metrics and
                                      config; up to --carry-limit-mb, 4 MB: no large binaries in git;
                                      bigger runs restart) into docs/results/inflight/NAME/ (committed at a
                                      session's end: a session may start on a fresh machine, where
                                      only the repository survives; `run` resumes from that copy when
                                      the run's folder is missing, and `record` deletes it)

Layout under runs/campaigns/NAME/ (outside the repository's tracked files; $LSSKD_CAMPAIGNS/NAME/
when that variable is set — use a folder outside the work tree so runs survive a fresh checkout):
    bin/lsskd           a private copy of the binary, so rebuilding the tree changes no running
                        campaign (--refresh-binary replaces it; the trainer's resume is exact
                        across builds as long as the training arithmetic is unchanged)
    GROUP/VARIANT-sSEED/  the run folder (--out): metrics.jsonl, checkpoint.lsk
    logs/ID.log         the trainer's output;  state/ID.done | ID.failed | ID.pid
    runner.pid PAUSED   the runner's lock and the pause flag

Tables and plots are made from the runs' metrics.jsonl by campaign_report.py.
"""
import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# ---------------------------------------------------------------------------------------------
# Campaign description


class Run:
    def __init__(self, campaign, group, variant, seed, args):
        self.campaign = campaign
        self.group = group["name"]
        self.purpose = group.get("purpose", "")
        self.variant = variant
        self.seed = seed
        self.args = args  # option name (without --) -> value; True: flag
        self.id = f"{self.group}/{variant}-s{seed}"
        self.out = os.path.join(campaign.root, self.group, f"{variant}-s{seed}")
        self.epochs = int(args["epochs"])

    @property
    def state_stem(self):
        return os.path.join(self.campaign.root, "state", self.id.replace("/", "__"))

    @property
    def log(self):
        return os.path.join(self.campaign.root, "logs", self.id.replace("/", "__") + ".log")

    def argv(self, binary, threads):
        out = ["nice", "-n", "19", binary, "train"]
        for key, value in self.args.items():
            if value is True:
                out.append(f"--{key}")
            elif value is False or value is None:
                continue
            else:
                out += [f"--{key}", str(value)]
        out += ["--seed", str(self.seed), "--threads", str(threads), "--out", self.out]
        return out

    def display_command(self):
        """The command as a user types it (no nice, the tool's name, the run's folder)."""
        argv = self.argv("lsskd", self.campaign.threads)[3:]
        return " ".join(argv).replace(REPO + "/", "")

    # State -----------------------------------------------------------------------------------

    @property
    def record(self):
        """The committed copy of a finished run's metrics (docs/results/records/NAME/ID), which
        stands in for the run when its folder is gone (a new machine)."""
        return os.path.join(REPO, "docs", "results", "records", self.campaign.name, self.group, f"{self.variant}-s{self.seed}")

    @property
    def inflight(self):
        """The committed copy of an unfinished run's last checkpoint (see `carry`)."""
        return os.path.join(REPO, "docs", "results", "inflight", self.campaign.name, self.group, f"{self.variant}-s{self.seed}")

    def metrics(self):
        path = os.path.join(self.out, "metrics.jsonl")
        if not os.path.isfile(path):
            path = os.path.join(self.record, "metrics.jsonl")
        if not os.path.isfile(path):
            path = os.path.join(self.inflight, "metrics.jsonl")
        if not os.path.isfile(path):
            return []
        rows = []
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass  # a line cut by a kill; the trainer's resume repairs the file
        # A kill between the metrics append and the checkpoint can list an epoch twice: keep the last.
        by_epoch = {}
        for r in rows:
            by_epoch[r["epoch"]] = r
        return [by_epoch[e] for e in sorted(by_epoch)]

    def done(self):
        return os.path.isfile(self.state_stem + ".done") or os.path.isfile(os.path.join(self.record, "metrics.jsonl"))

    def failed(self):
        return os.path.isfile(self.state_stem + ".failed")

    def running_pid(self):
        try:
            with open(self.state_stem + ".pid") as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            return pid if self.out in cmdline else None
        except (OSError, ValueError):
            return None


class Campaign:
    def __init__(self, path):
        with open(path) as f:
            spec = json.load(f)
        self.path = path
        self.name = spec["name"]
        self.description = spec.get("description", "")
        # LSSKD_CAMPAIGNS puts the runs outside the work tree (which a new session may lay anew).
        base = os.environ.get("LSSKD_CAMPAIGNS") or os.path.join(REPO, "runs", "campaigns")
        self.root = os.path.join(os.path.abspath(base), self.name)
        self.binary_source = os.path.join(REPO, spec.get("binary", ".build/release/lsskd"))
        self.binary = os.path.join(self.root, "bin", "lsskd")
        self.slots = int(spec.get("slots", 1))
        self.threads = int(spec.get("threads", 1))
        self.groups = spec["groups"]
        self.runs = []
        defaults = spec.get("defaults", {})
        for g in self.groups:
            seeds = g.get("seeds", [0])
            variant_seeds = g.get("variant_seeds", {})
            per_seed = []
            for variant, vargs in g["variants"].items():
                args = dict(defaults)
                args.update(g.get("args", {}))
                args.update(vargs)
                for seed in variant_seeds.get(variant, seeds):
                    per_seed.append((seed, Run(self, g, variant, seed, args)))
            # Seed-major order: every variant's first seed before any second seed, so that a
            # partial campaign already compares all variants.
            per_seed.sort(key=lambda x: x[0])
            self.runs += [r for _, r in per_seed]
        ids = [r.id for r in self.runs]
        if len(set(ids)) != len(ids):
            sys.exit(f"campaign {self.name}: two runs share an id")

    def path_in(self, *parts):
        return os.path.join(self.root, *parts)

    def runner_pid(self):
        try:
            with open(self.path_in("runner.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def paused(self):
        return os.path.exists(self.path_in("PAUSED"))


# ---------------------------------------------------------------------------------------------
# Running


def _die_with_parent():
    """Child pre-exec: the trainer gets SIGTERM if the runner dies (no orphaned duplicates)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _signal_all(campaign, sig):
    for r in campaign.runs:
        pid = r.running_pid()
        if pid:
            try:
                os.kill(pid, sig)
            except OSError:
                pass


def cmd_run(campaign, args):
    os.makedirs(campaign.path_in("state"), exist_ok=True)
    os.makedirs(campaign.path_in("logs"), exist_ok=True)
    os.makedirs(campaign.path_in("bin"), exist_ok=True)
    other = campaign.runner_pid()
    if other and other != os.getpid():
        sys.exit(f"campaign {campaign.name}: a runner is already working (pid {other})")
    with open(campaign.path_in("runner.pid"), "w") as f:
        f.write(str(os.getpid()))
    if args.refresh_binary or not os.path.isfile(campaign.binary):
        if not os.path.isfile(campaign.binary_source):
            sys.exit(f"{campaign.binary_source} missing: build it (swift build -c release --product lsskd)")
        tmp = campaign.binary + ".tmp"
        shutil.copy2(campaign.binary_source, tmp)
        os.replace(tmp, campaign.binary)
        commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
        with open(campaign.path_in("bin", "VERSION"), "w") as f:
            f.write(f"{commit} copied {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        print(f"runner: binary {campaign.binary_source} ({commit}) copied to {campaign.binary}", flush=True)
    slots = args.slots or campaign.slots
    threads = args.threads or campaign.threads
    campaign.threads = threads
    children = {}  # pid -> (Popen, Run)
    stopping = False

    def on_term(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    was_paused = False
    print(f"runner: campaign {campaign.name}, {len(campaign.runs)} runs, {slots} at a time, {threads} thread(s) each", flush=True)
    while True:
        # Reap.
        for pid, (proc, run) in list(children.items()):
            rc = proc.poll()
            if rc is None:
                continue
            del children[pid]
            try:
                os.remove(run.state_stem + ".pid")
            except OSError:
                pass
            if rc == 0:
                open(run.state_stem + ".done", "w").close()
                print(f"runner: {run.id} done", flush=True)
            elif rc < 0 or stopping:
                print(f"runner: {run.id} stopped by signal {-rc}; it resumes from its checkpoint next time", flush=True)
            else:
                with open(run.log, errors="replace") as f:
                    tail = f.readlines()[-5:]
                with open(run.state_stem + ".failed", "w") as f:
                    f.write(f"exit status {rc}\n" + "".join(tail))
                print(f"runner: {run.id} FAILED (exit {rc}): {''.join(tail).strip()}", flush=True)
        if stopping:
            for proc, _ in children.values():
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
            for proc, _ in children.values():
                proc.wait()
            break
        paused = campaign.paused()
        if paused != was_paused:
            for proc, _ in children.values():
                proc.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)
            print(f"runner: {'paused' if paused else 'continued'}", flush=True)
            was_paused = paused
        if not paused:
            busy = {r.id for _, r in children.values()}
            for run in campaign.runs:
                if len(children) >= slots:
                    break
                if run.id in busy or run.done() or run.failed() or run.running_pid():
                    continue
                argv = run.argv(campaign.binary, threads)
                carried = os.path.join(run.inflight, "checkpoint.lsk")
                if not os.path.isfile(os.path.join(run.out, "checkpoint.lsk")) and os.path.isfile(carried):
                    # A fresh machine: resume from the checkpoint an earlier session carried.
                    if os.path.isdir(run.out):
                        shutil.rmtree(run.out)
                    shutil.copytree(run.inflight, run.out)
                    print(f"runner: {run.id} restored from {os.path.relpath(run.inflight, REPO)}", flush=True)
                if os.path.isfile(os.path.join(run.out, "checkpoint.lsk")):
                    argv.append("--resume")
                elif os.path.isdir(run.out):
                    # Started before but no epoch finished: nothing to keep (no checkpoint).
                    shutil.rmtree(run.out)
                os.makedirs(os.path.dirname(run.out), exist_ok=True)
                log = open(run.log, "a")
                log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n")
                log.flush()
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, preexec_fn=_die_with_parent)
                log.close()
                with open(run.state_stem + ".pid", "w") as f:
                    f.write(str(proc.pid))
                children[proc.pid] = (proc, run)
                busy.add(run.id)
                print(f"runner: started {run.id}{' (resume)' if '--resume' in argv else ''}", flush=True)
            if not children:
                print("runner: nothing left to run", flush=True)
                break
        time.sleep(2)
    try:
        os.remove(campaign.path_in("runner.pid"))
    except OSError:
        pass


def cmd_start(campaign, args):
    if campaign.runner_pid():
        sys.exit(f"campaign {campaign.name}: a runner is already working (pid {campaign.runner_pid()})")
    os.makedirs(campaign.root, exist_ok=True)
    argv = [sys.executable, os.path.abspath(__file__), "run", campaign.path]
    if args.slots:
        argv += ["--slots", str(args.slots)]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    if args.refresh_binary:
        argv.append("--refresh-binary")
    log = open(campaign.path_in("runner.log"), "a")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    print(f"runner started (pid {proc.pid}); log: {campaign.path_in('runner.log')}")


def cmd_pause(campaign, args):
    os.makedirs(campaign.root, exist_ok=True)
    open(campaign.path_in("PAUSED"), "w").close()
    _signal_all(campaign, signal.SIGSTOP)  # at once, not at the runner's next poll
    print(f"campaign {campaign.name}: paused")


def cmd_continue(campaign, args):
    try:
        os.remove(campaign.path_in("PAUSED"))
    except OSError:
        pass
    _signal_all(campaign, signal.SIGCONT)
    print(f"campaign {campaign.name}: continued")


def cmd_stop(campaign, args):
    pid = campaign.runner_pid()
    if pid:
        os.kill(pid, signal.SIGTERM)
        print(f"campaign {campaign.name}: runner {pid} asked to stop")
    else:
        _signal_all(campaign, signal.SIGCONT)
        _signal_all(campaign, signal.SIGTERM)
        print(f"campaign {campaign.name}: no runner; trainers (if any) terminated")


# ---------------------------------------------------------------------------------------------
# Status


def epoch_wall_seconds(rows):
    """Mean wall seconds of an epoch (training plus its evaluation) over the epochs done."""
    if not rows:
        return None
    total = sum(r.get("seconds", 0) + (r.get("evalSeconds") or 0) for r in rows)
    return total / len(rows)


def estimate_epoch_seconds(campaign, run):
    """Epoch wall time of this run as measured so far, else of a sibling (same group and
    variant, another seed), else of a run of the same method, data and model (scaled by the
    ratio of the training fractions); None when nothing comparable has run yet."""
    rows = run.metrics()
    if rows:
        return epoch_wall_seconds(rows)
    def key(r):
        return (r.args.get("method"), r.args.get("data"), r.args.get("model"))
    for same in (lambda o: (o.group, o.variant) == (run.group, run.variant), lambda o: key(o) == key(run)):
        for other in campaign.runs:
            orows = other.metrics() if other is not run and same(other) else []
            if orows:
                scale = float(run.args.get("fraction", 1)) / float(other.args.get("fraction", 1))
                return epoch_wall_seconds(orows) * scale
    return None


def cmd_status(campaign, args):
    counts = {"done": 0, "running": 0, "left": 0, "failed": 0}
    cpu_seconds_left = 0.0
    unknown = 0
    lines = []
    for run in campaign.runs:
        rows = run.metrics()
        if run.done():
            state = "done"
        elif run.failed():
            state = "failed"
        elif run.running_pid():
            state = "running"
        else:
            state = "left"
        counts[state] += 1
        result = ""
        if rows:
            last = [r for r in rows if r.get("test")]
            if last:
                t = last[-1]
                result = f"{t['evalSet']} {100 * t['test']['top1']:.2f} (epoch {t['epoch'] + 1}), train {100 * rows[-1]['trainTop1']:.2f}"
        if state in ("running", "left"):
            per_epoch = estimate_epoch_seconds(campaign, run)
            if per_epoch is None:
                unknown += 1
            else:
                cpu_seconds_left += per_epoch * (run.epochs - len(rows)) * campaign.threads
        lines.append(f"  {run.id:<40} {state:<8} {len(rows):>3}/{run.epochs:<3} {result}")
    runner = campaign.runner_pid()
    print(f"campaign {campaign.name}: {counts['done']} done, {counts['running']} running, {counts['left']} left, "
          f"{counts['failed']} failed; about {cpu_seconds_left / 3600:.1f} CPU-hours left"
          + (f" (+{unknown} runs without a measured rate)" if unknown else "")
          + f"; runner {'pid ' + str(runner) if runner else 'not running'}{', PAUSED' if campaign.paused() else ''}")
    if not args.brief:
        print("\n".join(lines))


def cmd_record(campaign, args):
    copied = 0
    for run in campaign.runs:
        if not os.path.isfile(run.state_stem + ".done"):
            continue
        os.makedirs(run.record, exist_ok=True)
        for name in ("metrics.jsonl", "config.json"):
            src = os.path.join(run.out, name)
            if os.path.isfile(src):
                shutil.copy2(src, os.path.join(run.record, name))
        copied += 1
        if os.path.isdir(run.inflight):
            shutil.rmtree(run.inflight)  # finished: its carried checkpoint is no longer needed
    print(f"campaign {campaign.name}: {copied} finished runs recorded in docs/results/records/{campaign.name}/")


RUN_FILES_CARRIED = ("checkpoint.lsk", "metrics.jsonl", "config.json")


def cmd_carry(campaign, args):
    """Copies each unfinished run's checkpoint into the repository (docs/results/inflight/). The
    trainer replaces checkpoint.lsk atomically (rename), so a copy is always a whole checkpoint;
    metrics.jsonl may hold one epoch more than it, which the trainer's resume repairs."""
    carried = 0
    limit = args.carry_limit_mb * 1e6
    for run in campaign.runs:
        if run.done():
            if os.path.isdir(run.inflight):
                shutil.rmtree(run.inflight)
            continue
        checkpoint = os.path.join(run.out, "checkpoint.lsk")
        if not os.path.isfile(checkpoint):
            continue
        size = os.path.getsize(checkpoint)
        if size > limit:
            # Git is no store for big binaries: such a run restarts on a fresh machine.
            print(f"{run.id}: epoch {len(run.metrics())}/{run.epochs} NOT carried: its checkpoint is {size / 1e6:.0f} MB (> --carry-limit-mb {args.carry_limit_mb:g})")
            continue
        tmp = run.inflight + ".tmp"
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
        os.makedirs(tmp)
        for name in RUN_FILES_CARRIED:
            src = os.path.join(run.out, name)
            if os.path.isfile(src):
                shutil.copy2(src, os.path.join(tmp, name))
        if os.path.isdir(run.inflight):
            shutil.rmtree(run.inflight)
        os.replace(tmp, run.inflight)
        carried += 1
        print(f"{run.id}: epoch {len(run.metrics())}/{run.epochs} carried")
    print(f"campaign {campaign.name}: {carried} unfinished runs carried in docs/results/inflight/{campaign.name}/")


def cmd_commands(campaign, args):
    for run in campaign.runs:
        print(f"{run.id}: {run.display_command()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["run", "start", "status", "pause", "continue", "stop", "commands", "record", "carry"])
    ap.add_argument("campaign", help="campaign file (JSON)")
    ap.add_argument("--slots", type=int, help="runs at a time (default: the file's)")
    ap.add_argument("--threads", type=int, help="threads per run (default: the file's)")
    ap.add_argument("--refresh-binary", action="store_true", help="copy the tree's built binary over the campaign's")
    ap.add_argument("--brief", action="store_true", help="status: the summary line only")
    ap.add_argument("--carry-limit-mb", type=float, default=4, help="carry: largest checkpoint copied into the repository (MB)")
    args = ap.parse_args()
    campaign = Campaign(args.campaign)
    {"run": cmd_run, "start": cmd_start, "status": cmd_status, "pause": cmd_pause, "continue": cmd_continue,
     "stop": cmd_stop, "commands": cmd_commands, "record": cmd_record, "carry": cmd_carry}[args.command](campaign, args)


if __name__ == "__main__":
    main()
