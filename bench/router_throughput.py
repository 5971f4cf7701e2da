"""Decode-and-route throughput on one core: Pub/Sub push bodies (base64 JSON, as the function
receives them) through the real Service on in-memory ports, each decision formatted as its
Cloud Logging JSON line (written to a null stream). Most audit events name tables no spec
watches; the watched ones go through policy and state.

Prints: the target case (1,000 specs, 90% unwatched), then how the rate scales with the
number of specs and with payload size, each with a ratio to the baseline measured in the same
run (1,000 specs, ~1 KB entries, mix).

    .venv/bin/python bench/router_throughput.py [--events 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from retrain.backends.base import DryRunBackend
from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body
from retrain.routing.decision import StdoutLog
from retrain.routing.index import SpecIndex
from retrain.routing.service import Service
from retrain.runs import RunOutcome
from retrain.spec import Spec
from retrain.state.memory import MemoryStore

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
TARGET = 20_000  # events/s, one core, 1,000 specs


class NullStream:
    """Where log lines go: formatted, then dropped (the cost of formatting stays measured)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class DroppedSink:
    """No run finishes here: only routing is measured."""

    def handle(self, outcome: RunOutcome) -> None:
        del outcome


def make_specs(count: int) -> list[Spec]:
    base = yaml.safe_load((REPO / "tests/golden/events/specs/churn.yaml").read_text())
    specs = []
    for i in range(count):
        data = {**base, "name": f"model-{i:05d}"}
        table = f"acme-analytics.ds{i % 50}.table_{i:05d}"
        data["data"] = {**base["data"], "table": table, "query": None}
        specs.append(Spec.model_validate(data))
    return specs


def make_service(index: SpecIndex) -> Service:
    return Service(
        index=lambda: index,
        store=MemoryStore(),
        backend=DryRunBackend(),
        sink=DroppedSink,
        log=StdoutLog(NullStream()),  # type: ignore[arg-type]
    )


def bodies(
    specs: list[Spec], count: int, watched_share: float, pad: int, rng: random.Random
) -> list[dict[str, Any]]:
    """Push bodies; `pad` bytes of request metadata make an entry bigger, as real ones are."""
    found = []
    for i in range(count):
        if rng.random() < watched_share:
            table = rng.choice(specs).data.table
        else:
            table = f"acme-analytics.raw.clicks_{i % 97}"
        entry = table_data_change_entry(
            table, rng.randint(1, 400), f"job{i}", T0 + timedelta(minutes=i)
        )
        if pad:
            entry["protoPayload"]["requestMetadata"] = {"callerSuppliedUserAgent": "x" * pad}
        found.append(pubsub_body(entry, f"m{i}", {}))
    return found


def rate(specs: list[Spec], count: int, watched_share: float, pad: int) -> float:
    rng = random.Random(5)
    service = make_service(SpecIndex(specs))
    events = bodies(specs, count, watched_share, pad, rng)
    start = time.perf_counter()
    for body in events:
        service.handle("data_arrival", body)
    return count / (time.perf_counter() - start)


def one_core() -> str:
    try:
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to cpu {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    pinned = one_core()
    n = args.events
    all_specs = make_specs(10_000)
    thousand = all_specs[:1000]
    t = time.perf_counter()
    SpecIndex(thousand)
    index_ms = (time.perf_counter() - t) * 1000
    rate(thousand, 2000, 0.1, 0)  # warm up
    base = rate(thousand, n, 0.1, 0)
    print(
        f"router throughput, one core ({pinned}), push bodies -> decision log lines; "
        f"index of 1,000 specs built in {index_ms:.0f} ms"
    )
    verdict = "meets" if base >= TARGET else "MISSES"
    print(
        f"  baseline: 1,000 specs, 90% unwatched, ~1 KB entries: {base:9.0f} events/s "
        f"({verdict} the {TARGET:,}/s target)"
    )
    cases = [
        ("all unwatched (dismissed)", thousand, 0.0, 0),
        ("all watched (policy + state)", thousand, 1.0, 0),
        ("10 specs, mix", all_specs[:10], 0.1, 0),
        ("100 specs, mix", all_specs[:100], 0.1, 0),
        ("10,000 specs, mix", all_specs, 0.1, 0),
        ("entries +10 KB, mix", thousand, 0.1, 10_000),
        ("entries +100 KB, mix", thousand, 0.1, 100_000),
    ]
    for name, specs, share, pad in cases:
        events = n if pad < 100_000 else n // 4
        value = rate(specs, events, share, pad)
        print(f"  {name:<34} {value:9.0f} events/s   x{value / base:5.2f} of baseline")


if __name__ == "__main__":
    main()
