"""Router decisions per second with 1,000 specs, through the real Service on in-memory ports
(no I/O): most audit events name tables no spec watches, so those are measured apart.

    .venv/bin/python bench/router_throughput.py [--specs 1000] [--events 20000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from retrain.backends.base import DryRunBackend
from retrain.events.bigquery import table_data_change_entry
from retrain.routing.decision import MemoryLog
from retrain.routing.index import SpecIndex
from retrain.routing.service import LoggingSink, Service
from retrain.spec import Spec
from retrain.state.memory import MemoryStore

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def make_specs(count: int) -> list[Spec]:
    base = yaml.safe_load((REPO / "tests/golden/events/specs/churn.yaml").read_text())
    specs = []
    for i in range(count):
        data = {**base, "name": f"model-{i:04d}"}
        table = f"acme-analytics.ds{i % 50}.table_{i:04d}"
        data["data"] = {**base["data"], "table": table, "query": None}
        specs.append(Spec.model_validate(data))
    return specs


def route(service: Service, events: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for event in events:
        service.data_arrival(event)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--specs", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    rng = random.Random(5)
    specs = make_specs(args.specs)
    t = time.perf_counter()
    index = SpecIndex(specs)
    index_seconds = time.perf_counter() - t
    log = MemoryLog()
    service = Service(
        index=lambda: index,
        store=MemoryStore(),
        backend=DryRunBackend(),
        sink=LoggingSink,
        log=log,
    )

    def event(i: int, table: str) -> dict[str, Any]:
        when = T0 + timedelta(minutes=i)
        return table_data_change_entry(table, rng.randint(1, 400), f"job{i}", when)

    unwatched = [event(i, f"acme-analytics.raw.clicks_{i % 97}") for i in range(args.events)]
    watched = [event(i, rng.choice(specs).data.table) for i in range(args.events)]
    mixed = [*rng.sample(unwatched, args.events * 9 // 10), *rng.sample(watched, args.events // 10)]
    rng.shuffle(mixed)
    results = {
        "unwatched table (dismissed)": route(service, unwatched),
        "watched table (policy + state)": route(service, watched),
        "mix: 90% unwatched, 10% watched": route(service, mixed),
    }
    print(
        f"router with {len(index)} specs (index built in {index_seconds * 1000:.1f} ms), "
        "in-memory ports"
    )
    base = args.events / results["watched table (policy + state)"]
    for name, seconds in results.items():
        rate = args.events / seconds
        print(f"  {name:<34} {rate:9.0f} decisions/s   x{rate / base:4.1f} of watched")
    counts: dict[str, int] = {}
    for decision in log.decisions:
        counts[decision.decision] = counts.get(decision.decision, 0) + 1
    print(f"  decisions: {counts}")


if __name__ == "__main__":
    main()
