"""How a local run's cost grows with the data: churn (Transform) end to end at 1k, 10k, 100k
and 1M rows, generated deterministically (retrain.data.samples), one run per size, in one
process. Prints per size the end-to-end time, the time and peak memory of each component, and
ratios to the smallest size measured in the same run.

Two ways to train: the spec's fixed 300 steps of 64 (a sample that stays 19,200 examples
however large the table), and, with `--epochs N`, N passes over every training row
(`trainer.epochs`). With `--epochs` both curves run, size by size, and are printed side by
side. Last, the per-component peak memory curve is extended, line through the two largest
sizes, to the rows at which each component would reach the machine's memory: the smallest of
those names the largest table a local run fits and the component that limits it.

Peak memory is the resident set of every process under this one (the TFX run and anything it
starts), sampled every 0.2 s and charged to the component running at the time; the first
component's figure includes TFX's import.

    .venv/bin/python bench/scaling.py [--sizes 1000,10000,100000,1000000] [--epochs 1]
                                      [--direct-workers N]

`--direct-workers N` (N > 1) runs Beam's DirectRunner in multi-process mode with N workers
instead of in memory, to compare the two on this machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from retrain.data.local import materialize  # noqa: E402
from retrain.data.samples import churn_rows, write_csv  # noqa: E402
from retrain.pipeline_env.process import PipelineEnv  # noqa: E402
from retrain.runs import LocalLayout  # noqa: E402
from retrain.spec import load_spec  # noqa: E402

PIPELINE_ENV = PipelineEnv.found(REPO)

SEED = 1616
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
ROOT = Path("work") / "bench-scaling"  # relative to the repository: spec data paths must be
PAGE = os.sysconf("SC_PAGE_SIZE")
_PROGRESS = re.compile(r"progress: \[\d+/\d+\] (\S+) (running|done in ([0-9.]+)s)")


def _tree_rss(root: int) -> int:
    """Resident bytes of `root`'s descendants (not `root` itself: this script)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


@dataclass
class Run:
    rows: int
    training: str  # "300 steps" or "1 epoch"
    seconds: float = 0.0
    component_seconds: dict[str, float] = field(default_factory=dict)
    component_peak: dict[str, int] = field(default_factory=dict)
    current: str = "(start)"

    def on_line(self, line: str) -> None:
        match = _PROGRESS.match(line)
        if not match:
            return
        name, _, took = match.groups()
        if took is None:
            self.current = name
        else:
            self.component_seconds[name] = float(took)
        self._charge(name, _tree_rss(os.getpid()))  # a step shorter than one sample counts too

    def _charge(self, name: str, rss: int) -> None:
        if rss > self.component_peak.get(name, 0):
            self.component_peak[name] = rss

    def sample(self, stop: threading.Event) -> None:
        me = os.getpid()
        while not stop.wait(0.2):
            self._charge(self.current, _tree_rss(me))

    @property
    def peak(self) -> int:
        return max(self.component_peak.values(), default=0)


def prepare(rows: int, epochs: int | None) -> Path:
    """A copy of churn's spec and schema reading `rows` generated rows, training `epochs`
    passes over them (None: the spec's train_steps); returns the spec."""
    base = ROOT / str(rows)
    shutil.rmtree(REPO / base, ignore_errors=True)
    (REPO / base / "specs").mkdir(parents=True)
    data = base / "churn.csv"
    write_csv(REPO / data, churn_rows(rows, seed=SEED))
    text = (REPO / "specs" / "churn.yaml").read_text()
    text = re.sub(r"(\n  local:\n    path: ).*", rf"\g<1>{data}", text)
    if epochs is not None:
        text, count = re.subn(r"\n  train_steps: \d+", f"\n  epochs: {epochs}", text)
        assert count == 1, "specs/churn.yaml no longer sets trainer.train_steps"
    spec = REPO / base / "specs" / "churn.yaml"
    spec.write_text(text)
    shutil.copy(REPO / "specs" / "churn.schema.pbtxt", spec.with_name("churn.schema.pbtxt"))
    return spec


def measure(rows: int, epochs: int | None, direct_workers: int) -> Run:
    spec_path = prepare(rows, epochs)
    spec = load_spec(spec_path)
    layout = LocalLayout(workdir=(REPO / ROOT / str(rows) / "work"), spec=spec.name)
    steps = spec.trainer.train_steps
    run = Run(rows, f"{steps} steps" if steps else f"{epochs} epoch" + ("s" * (epochs != 1)))
    stop = threading.Event()
    sampler = threading.Thread(target=run.sample, args=(stop,), daemon=True)
    started = time.perf_counter()
    sampler.start()
    try:
        input_csv = layout.root / "input" / "bench" / "churn.csv"
        materialize(spec, REPO, input_csv)
        args = ["--input-csv", str(input_csv), "--spec", str(spec_path), "--run-id", "bench"]
        args += ["--workdir", str(layout.workdir), "--repo-root", str(REPO)]
        args += ["--direct-workers", str(direct_workers)]
        PIPELINE_ENV.run_module(
            "pipelines.run_local", args, layout.root / "bench.log", on_line=run.on_line
        )
    finally:
        stop.set()
        sampler.join()
    run.seconds = time.perf_counter() - started
    return run


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f}"


def report(runs: list[Run]) -> None:
    base = runs[0]
    print(f"\n== training: {base.training}")
    print(f"{'rows':>10} {'end to end s':>13} {'x':>7} {'peak MiB':>9} {'x':>6}")
    for run in runs:
        print(
            f"{run.rows:>10,} {run.seconds:>13.1f} {run.seconds / base.seconds:>7.2f} "
            f"{_mib(run.peak):>9} {run.peak / base.peak:>6.2f}"
        )
    components = [c for c in base.component_seconds if c in runs[-1].component_seconds]
    print("\nper component: seconds (x smallest) / peak MiB (x smallest)")
    print(f"{'component':<34}" + "".join(f"{r.rows:>24,}" for r in runs))
    for name in components:
        cells = []
        for run in runs:
            secs = run.component_seconds.get(name, 0.0)
            peak = run.component_peak.get(name, 0)
            ratio_s = secs / base.component_seconds[name] if base.component_seconds[name] else 0
            ratio_m = peak / base.component_peak[name] if base.component_peak.get(name) else 0
            cells.append(f"{secs:6.1f} ({ratio_s:5.1f}) / {_mib(peak):>5} ({ratio_m:3.1f})")
        print(f"{name:<34}" + "".join(f"{c:>24}" for c in cells))


def side_by_side(steps: list[Run], epochs: list[Run]) -> None:
    """The two ways to train at each size: end to end and the Trainer, with their ratio."""
    print(f"\n== {steps[0].training} vs {epochs[0].training}, seconds (epochs / steps)")
    print(f"{'rows':>10} {'end to end':>28} {'Trainer':>28} {'peak MiB':>20}")
    for fixed, full in zip(steps, epochs, strict=True):
        a, b = (
            fixed.component_seconds.get("Trainer", 0.0),
            full.component_seconds.get("Trainer", 0.0),
        )
        end = f"{fixed.seconds:.1f} / {full.seconds:.1f} ({full.seconds / fixed.seconds:.2f})"
        trainer = f"{a:.1f} / {b:.1f} ({b / a if a else 0:.2f})"
        peak = f"{_mib(fixed.peak)} / {_mib(full.peak)}"
        print(f"{fixed.rows:>10,} {end:>28} {trainer:>28} {peak:>20}")


def memory_limit(runs: list[Run], budget: int) -> tuple[str, int] | None:
    """(component, rows) at which the first component's peak memory, extended along the line
    through the two largest sizes measured, reaches `budget` bytes; None when nothing grows."""
    if len(runs) < 2:
        return None
    low, high = runs[-2], runs[-1]
    found: list[tuple[int, str]] = []
    for name, peak in high.component_peak.items():
        slope = (peak - low.component_peak.get(name, peak)) / (high.rows - low.rows)
        if slope > 0:
            found.append((high.rows + int((budget - peak) / slope), name))
    if not found:
        return None
    rows, name = min(found)
    return name, rows


def total_memory() -> int:
    return os.sysconf("SC_PHYS_PAGES") * PAGE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument(
        "--epochs", type=int, help="also train N passes over every row, beside the fixed steps"
    )
    parser.add_argument("--direct-workers", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ways: list[int | None] = [None] if args.epochs is None else [None, args.epochs]
    curves: dict[int | None, list[Run]] = {way: [] for way in ways}
    for rows in sizes:
        for way in ways:
            run = measure(rows, way, args.direct_workers)
            print(
                f"== {rows:,} rows, {run.training}: {run.seconds:.1f} s, peak {_mib(run.peak)} MiB"
            )
            for name, secs in run.component_seconds.items():
                peak = _mib(run.component_peak.get(name, 0))
                print(f"   {name:<32} {secs:7.1f} s {peak:>7} MiB", flush=True)
            curves[way].append(run)
    for runs in curves.values():
        report(runs)
    if args.epochs is not None:
        side_by_side(curves[None], curves[args.epochs])
    budget = total_memory()
    for runs in curves.values():
        limit = memory_limit(runs, budget)
        if limit:
            name, rows = limit
            print(
                f"\n{runs[0].training}: {name} would reach this machine's {_mib(budget)} MiB "
                f"first, at about {rows:,} rows (its peak extended along the line through "
                f"{runs[-2].rows:,} and {runs[-1].rows:,} rows)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
