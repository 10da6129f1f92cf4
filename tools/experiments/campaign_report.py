#!/usr/bin/env python3
"""Tables, a machine-readable summary and plots from the runs of a campaign (campaign.py).

    campaign_report.py FILE                        the markdown report on stdout
    campaign_report.py FILE --markdown OUT.md      ... written to a file
    campaign_report.py FILE --summary OUT.json     {"budgets": [...]}: one budget per table
    campaign_report.py FILE --plots DIR            DIR/<table>.png (needs matplotlib)

Protocol (as in the campaign files):
  * Groups that share a name form one table (one training budget: data, model, fraction,
    epochs); e.g. the seed-0 finals, the later seeds and a diagnosis group of the same budget.
  * Finals (purpose "final") are evaluated on the test set. Screens (purpose "screen") hold out
    a split of the full training set (--val-split), train on the fraction of the rest and
    are evaluated on the held-out split ("val"); the
    recipe is chosen on screens, never on the test set.
  * Every number is the LAST epoch's (the trainer always evaluates it), never the best epoch's.
  * Only finished runs (state file .done and all epochs in metrics.jsonl) enter means, sds, the
    summary and the CPU-hours of a variant; running / left / failed runs are listed as such.
  * sd is the sample standard deviation, shown only with n >= 2 finished seeds.
  * A budget is "overfitting" when CE's final train top-1 exceeds its eval top-1 by >= 5
    points (means over the finished CE seeds).
  * CPU-hours of a run: sum over its epochs of (seconds + evalSeconds) x the campaign's
    threads per run / 3600.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from campaign import Campaign  # noqa: E402

OVERFIT_POINTS = 5.0
BASELINE = "ce"


# ---------------------------------------------------------------------------------------------
# Reading the runs


class Result:
    """One run with its metrics read once; accuracies in percent."""

    def __init__(self, run, threads):
        self.run = run
        self.rows = run.metrics()
        if run.done():
            self.state = "done"
        elif run.failed():
            self.state = "failed"
        elif run.running_pid():
            self.state = "running"
        else:
            self.state = "left"  # not started, or stopped (it resumes from its checkpoint)
        last = self.rows[-1] if self.rows else {}
        self.finished = (self.state == "done" and len(self.rows) == run.epochs
                         and last.get("epoch") == run.epochs - 1 and bool(last.get("test")))
        self.final = last if self.finished else None
        self.cpu_hours = sum(r.get("seconds", 0) + (r.get("evalSeconds") or 0) for r in self.rows) * threads / 3600

    @property
    def eval_top1(self):
        return 100.0 * self.final["test"]["top1"]

    @property
    def train_top1(self):
        return 100.0 * self.final["trainTop1"]

    def progress(self):
        return f"{len(self.rows)}/{self.run.epochs}"


class Table:
    """The runs of all groups that share one name, by variant (in the file's order) and seed."""

    def __init__(self, name, results):
        self.name = name
        self.results = results
        self.variants = {}
        for r in results:
            self.variants.setdefault(r.run.variant, []).append(r)
        for rs in self.variants.values():
            rs.sort(key=lambda r: r.run.seed)

    def setting(self, key, show=str):
        """The runs' value of a train option; distinct values joined if the groups differ."""
        values = list(dict.fromkeys(show(r.run.args.get(key)) for r in self.results))
        return values[0] if len(values) == 1 else " / ".join(values)

    @property
    def dataset(self):
        return self.setting("data", dataset_label)

    @property
    def eval_set(self):
        return self.setting("val-split", lambda v: "test" if v in (None, False, 0) else "val")

    def finished(self, variant):
        return [r for r in self.variants.get(variant, []) if r.finished]


def dataset_label(data):
    """'cifar100:../shared/data/tin100-A-32' -> 'cifar100:tin100-A-32'; 'fashion-mnist:/x/fashion-mnist' -> 'fashion-mnist'."""
    kind, _, path = str(data).partition(":")
    base = os.path.basename(path.rstrip("/"))
    return kind if not base or base == kind else f"{kind}:{base}"


def load_tables(campaign):
    by_name = {}
    for run in campaign.runs:
        by_name.setdefault(run.group, []).append(Result(run, campaign.threads))
    order = list(dict.fromkeys(g["name"] for g in campaign.groups))
    return [Table(name, by_name.get(name, [])) for name in order]


# ---------------------------------------------------------------------------------------------
# Markdown


def mean_sd(values):
    """(mean, sd or None); sd needs two values."""
    return statistics.mean(values), (statistics.stdev(values) if len(values) >= 2 else None)


def fmt_mean_sd(values):
    if not values:
        return "—"
    m, sd = mean_sd(values)
    return f"{m:.2f} ± {sd:.2f}" if sd is not None else f"{m:.2f} ± —"


def grouped_by(table, key):
    """'A (v1, v2); B (v3)' for a per-variant property, or just 'A' when every variant shares it."""
    groups = {}
    for variant, rs in table.variants.items():
        groups.setdefault(key(rs), []).append(variant)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{k} ({', '.join(vs)})" for k, vs in groups.items())


def first_epoch_terms(rs):
    """Loss terms of the lowest seed's first epoch, each with its share of the sum of magnitudes."""
    with_rows = [r for r in rs if r.rows]
    if not with_rows:
        return "—"
    r = with_rows[0]
    terms = r.rows[0].get("terms") or {}
    total = sum(abs(v) for v in terms.values()) or 1.0
    text = ", ".join(f"{k} {v:.3g} ({100 * abs(v) / total:.0f}%)" for k, v in terms.items())
    return text + ("" if r.run.seed == 0 else f" [s{r.run.seed}]")


def best_branch(done):
    """Mean over finished seeds of the best auxiliary branch's last-epoch top-1, and its name(s)."""
    best = [max(aux.items(), key=lambda kv: kv[1]) for aux in (r.final.get("auxiliaryTop1") for r in done) if aux]
    if not best:
        return "—"
    names = "/".join(sorted({name for name, _ in best}))
    return f"{statistics.mean(100 * v for _, v in best):.2f} ({names})"


def per_seed(rs):
    return " · ".join(f"s{r.run.seed} {r.eval_top1:.2f}" if r.finished else f"s{r.run.seed} {r.state} {r.progress()}"
                      for r in rs)


def table_markdown(table, threads):
    lines = [f"## {table.name}", ""]
    split = table.eval_set
    val = table.setting("val-split")
    lines += [
        f"- purpose: {grouped_by(table, lambda rs: rs[0].run.purpose or '?')}",
        f"- dataset: {table.dataset} (`{table.setting('data')}`); model: {table.setting('model')}; "
        f"fraction: {table.setting('fraction')}; epochs: {table.setting('epochs')}",
        f"- eval split: {split}" + (f" (a stratified {val} of the full training set, held out before --fraction)" if split == "val" else ""),
        f"- seeds: {grouped_by(table, lambda rs: ', '.join(str(r.run.seed) for r in rs))}",
    ]
    seen = sorted({row["evalSet"] for r in table.results for row in r.rows if row.get("evalSet")})
    if seen and seen != [split]:
        lines.append(f"- WARNING: the metrics name the eval set(s) {', '.join(seen)}; the arguments imply {split}")
    lines += [
        "",
        f"Final (last-epoch) {split} top-1 in %, finished runs only; {threads} thread(s) per run.",
        "",
        f"| variant | n done | {split} top-1 (mean ± sd) | per seed | train top-1 | train − {split} | ECE "
        f"| first-epoch terms (seed 0, share) | best branch (last epoch) | CPU-h |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, rs in table.variants.items():
        done = table.finished(variant)
        evals, trains = [r.eval_top1 for r in done], [r.train_top1 for r in done]
        gap = f"{statistics.mean(trains) - statistics.mean(evals):+.2f}" if done else "—"
        ece = f"{statistics.mean(r.final['test']['ece'] for r in done):.4f}" if done else "—"
        train = f"{statistics.mean(trains):.2f}" if done else "—"
        cpu = f"{sum(r.cpu_hours for r in done):.2f}" if done else "—"
        lines.append(f"| {variant} | {len(done)}/{len(rs)} | {fmt_mean_sd(evals)} | {per_seed(rs)} | {train} | {gap} "
                     f"| {ece} | {first_epoch_terms(rs)} | {best_branch(done)} | {cpu} |")
    lines += ["", *delta_lines(table), "", overfitting_line(table), ""]
    done_cpu = sum(r.cpu_hours for r in table.results if r.finished)
    open_cpu = sum(r.cpu_hours for r in table.results if not r.finished)
    lines += [f"CPU-hours of the table: {done_cpu:.2f} in finished runs"
              + (f" (+{open_cpu:.2f} so far in unfinished ones)" if open_cpu else ""), "", "Runs:", ""]
    for r in table.results:
        if r.finished:
            what = f"done {r.progress()}, {split} {r.eval_top1:.2f}, train {r.train_top1:.2f}"
        else:
            evaluated = [row for row in r.rows if row.get("test")]
            latest = evaluated[-1] if evaluated else None
            what = f"{r.state} {r.progress()}" + (
                f" (latest {split} {100 * latest['test']['top1']:.2f} at epoch {latest['epoch'] + 1}, not final)" if latest else "")
        lines.append(f"- `{r.run.id}` [{r.run.purpose}] {what}: `{r.run.display_command()}`")
    return "\n".join(lines) + "\n"


def delta_lines(table):
    base = [r.eval_top1 for r in table.finished(BASELINE)]
    if len(base) < 2:
        return [f"Δ vs {BASELINE}: needs ≥ 2 finished {BASELINE} seeds ({len(base)} so far)."]
    bm, bsd = mean_sd(base)
    out = []
    for variant in table.variants:
        vals = [r.eval_top1 for r in table.finished(variant)]
        if variant == BASELINE or len(vals) < 2:
            continue
        m, sd = mean_sd(vals)
        overlap = m - sd <= bm + bsd and bm - bsd <= m + sd
        out.append(f"- Δ vs {BASELINE}: {variant} {m - bm:+.2f} points ({m:.2f} ± {sd:.2f} vs {bm:.2f} ± {bsd:.2f}; "
                   f"mean ± sd intervals {'overlap' if overlap else 'do not overlap'})"
                   + ahead_from(table, variant))
    return out


def ahead_from(table, variant):
    """'; ahead of ce from epoch N on' when the variant's mean curve (finished seeds, evaluated
    epochs) stays at or above the baseline's from epoch N to the end of the run."""
    def curve(v):
        xs, ys = per_epoch_mean(table.finished(v), lambda row: (row.get("test") or {}).get("top1"))
        return dict(zip(xs, ys))
    a, b = curve(variant), curve(BASELINE)
    epochs = sorted(set(a) & set(b))
    if not epochs or a[epochs[-1]] < b[epochs[-1]]:
        return ""
    first = epochs[-1]
    for e in reversed(epochs):
        if a[e] < b[e]:
            break
        first = e
    return f"; mean curve at or above {BASELINE}'s from evaluated epoch {first} on (of this {table.setting('epochs')}-epoch schedule)" or [f"Δ vs {BASELINE}: no other variant has ≥ 2 finished seeds yet."]


def ce_train_eval(table):
    done = table.finished(BASELINE)
    if not done:
        return None
    return statistics.mean(r.train_top1 for r in done), statistics.mean(r.eval_top1 for r in done), len(done)


def overfitting_line(table):
    ce = ce_train_eval(table)
    if ce is None:
        return f"Overfitting: unknown (no finished {BASELINE} run)."
    train, ev, n = ce
    verdict = "yes" if train - ev >= OVERFIT_POINTS else "no"
    return (f"Overfitting: {verdict} — {BASELINE} train {train:.2f} vs {table.eval_set} {ev:.2f}, gap {train - ev:+.2f} "
            f"(threshold {OVERFIT_POINTS:g} points; mean over {n} {BASELINE} seed(s)).")


def report_markdown(campaign, tables):
    counts = {}
    for t in tables:
        for r in t.results:
            counts[r.state] = counts.get(r.state, 0) + 1
    state = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "running", "left", "failed"))
    head = [f"# Campaign {campaign.name}", "", campaign.description, "", f"Runs: {state}.", ""]
    return "\n".join(head) + "\n" + "\n".join(table_markdown(t, campaign.threads) for t in tables)


# ---------------------------------------------------------------------------------------------
# Summary (JSON) and plots


def summary(tables):
    budgets = []
    for t in tables:
        ce = ce_train_eval(t)
        runs = {v: [round(r.eval_top1, 2) for r in t.finished(v)] for v in t.variants if t.finished(v)}
        budgets.append({
            "name": t.name, "dataset": t.dataset, "model": t.setting("model"),
            "fraction": number(t.setting("fraction"), float), "epochs": number(t.setting("epochs"), int),
            "eval_set": t.eval_set, "ce_train_top1": round(ce[0], 2) if ce else None,
            "runs": runs, "seeds": {v: [r.run.seed for r in t.finished(v)] for v in runs},
        })
    return {"budgets": budgets}


def number(text, kind):
    """A setting as a number; left as text when the table's groups disagree ('0.05 / 0.1')."""
    try:
        return kind(text)
    except ValueError:
        return text


def per_epoch_mean(results, value):
    """Epochs (1-based) and the mean of value(row) over the runs that have that epoch (value not None)."""
    by_epoch = {}
    for r in results:
        for row in r.rows:
            v = value(row)
            if v is not None:
                by_epoch.setdefault(row["epoch"], []).append(100 * v)
    epochs = sorted(by_epoch)
    return [e + 1 for e in epochs], [statistics.mean(by_epoch[e]) for e in epochs]


def write_plots(tables, folder):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("campaign_report.py: --plots needs matplotlib, which this Python lacks; e.g.\n"
                 "  python3 -m venv /tmp/plotvenv && /tmp/plotvenv/bin/pip install matplotlib\n"
                 "  /tmp/plotvenv/bin/python tools/experiments/campaign_report.py FILE --plots DIR")
    os.makedirs(folder, exist_ok=True)
    written = []
    for t in tables:
        fig, (ax_eval, ax_train) = plt.subplots(1, 2, figsize=(13, 4.8))
        for variant, rs in t.variants.items():
            shown = [r for r in rs if r.rows and r.state != "failed"]  # finished or still going
            if not shown:
                continue
            n_done = sum(r.finished for r in shown)
            label = f"{variant} ({n_done} done" + (f", {len(shown) - n_done} unfinished)" if len(shown) > n_done else ")")
            style = "-" if n_done else "--"
            x, y = per_epoch_mean(shown, lambda row: (row.get("test") or {}).get("top1"))
            line, = ax_eval.plot(x, y, style, marker="o", markersize=3, label=label)
            x, y = per_epoch_mean(shown, lambda row: row.get("trainTop1"))
            ax_train.plot(x, y, style, color=line.get_color(), label=label)
        for ax, what in ((ax_eval, f"{t.eval_set} top-1 (%)"), (ax_train, "train top-1 (%)")):
            ax.set_xlabel("epoch")
            ax.set_ylabel(what)
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=8)
            else:
                ax.text(0.5, 0.5, "no epoch finished yet", ha="center", va="center", transform=ax.transAxes)
        ax_eval.set_title(f"{t.eval_set} top-1 (evaluated epochs; mean over seeds)", fontsize=10)
        ax_train.set_title("train top-1 (mean over seeds)", fontsize=10)
        fig.suptitle(f"{t.name}: {t.dataset} · {t.setting('model')} · fraction {t.setting('fraction')} · "
                     f"{t.setting('epochs')} epochs · eval on {t.eval_set}  (dashed: no finished seed)")
        fig.tight_layout()
        path = os.path.join(folder, t.name.replace("/", "_") + ".png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("campaign", help="campaign file (JSON), e.g. tools/experiments/campaigns/results-v2.json")
    ap.add_argument("--markdown", metavar="OUT.md", help="write the markdown report here")
    ap.add_argument("--summary", metavar="OUT.json", help="write the machine-readable summary here")
    ap.add_argument("--plots", metavar="DIR", help="write one PNG per table here")
    args = ap.parse_args()
    campaign = Campaign(args.campaign)
    tables = load_tables(campaign)
    if args.plots:  # first, so that a missing matplotlib stops before any file is written
        for path in write_plots(tables, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    markdown = report_markdown(campaign, tables)
    outputs = [(args.markdown, markdown), (args.summary, json.dumps(summary(tables), indent=1) + "\n")]
    for path, text in outputs:
        if path:
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote {path}", file=sys.stderr)
    if not (args.markdown or args.summary or args.plots):
        sys.stdout.write(markdown)

if __name__ == "__main__":
    main()
