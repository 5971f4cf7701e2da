"""Redelivery storm through real handler processes: distinct Pub/Sub messages, each delivered
many times in random order, pushed concurrently into several functions-framework servers
(`on_data_arrival`) that keep state in the Firestore emulator and submit to the fake Vertex
server (the real aiplatform_v1 client over REST). A delivery answered 500 (TransientError) is
delivered again, as Pub/Sub does. Checks exactly the expected runs: none lost, none doubled.

With `--chaos`, the storm also: runs one instance with its clock 20 minutes ahead, SIGKILLs
another a third of the way through and starts it again, has Vertex answer 503 then 429 for a
while, and afterwards sends wake-up ticks (to an `on_schedule` process) until the claims a
killed instance left are taken over; then checks the invariants from the stores
(`StormResult.problems`).

    .venv/bin/python bench/storm.py [--messages 500] [--deliveries 10000] [--processes 4]
        [--chaos]

Starts its own Firestore emulator unless FIRESTORE_EMULATOR_HOST is set. tests/hardening runs
a smaller storm through `run_storm`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from retrain.events.bigquery import decode_data_arrival, table_data_change_entry
from retrain.events.envelope import pubsub_body, unwrap
from retrain.events.types import DataArrival
from retrain.localstack.fake_registry import FakeRegistry
from retrain.localstack.fake_vertex import FakeVertex
from retrain.localstack.stack import start_firestore_emulator, start_function
from retrain.processes.procs import Proc, free_port, start
from retrain.routing.index import load_index
from retrain.routing.jobid import derive_job_id
from retrain.routing.policy import window_of

REPO = Path(__file__).resolve().parents[1]
BASE_SPEC = REPO / "tests" / "golden" / "events" / "specs" / "churn.yaml"
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
# The identity the functions' runs are submitted as (Vertex settings require one).
PIPELINES_SA = "retrain-pipelines@retrain-local.iam.gserviceaccount.com"
GIT_SHA = "9b241c8d31745115ca281886361fc70f565f071f"
# Every generated spec runs the checked-in compiled template, read from a registry stand-in.
TEMPLATE = REPO / "tests" / "delivery" / "fixtures" / "template.json"
TEMPLATE_URI = "https://us-central1-kfp.pkg.dev/retrain-local/retrain/tabular/{git_sha}"
MAX_ATTEMPTS = 30  # per delivery, like a subscription's retry budget (bounded)


@dataclass
class StormResult:
    messages: int
    deliveries: int
    processes: int
    seconds: float
    attempts: int  # HTTP requests sent, redeliveries after 500 included
    lost: int  # attempts whose answer never arrived (connection reset, timeout): redelivered
    unanswered: int  # deliveries still failing after MAX_ATTEMPTS
    expected_jobs: set[str]
    jobs: set[str]  # what the fake Vertex holds
    decisions: Counter[str]
    run_job_ids: list[str]  # job ids of `run` decisions (one per job, when correct)
    latencies: list[float] = field(default_factory=list)
    state_problems: list[str] = field(default_factory=list)  # read from Firestore afterwards
    chaos: list[str] = field(default_factory=list)  # what was done to the storm, in order

    def problems(self) -> list[str]:
        """Empty when the storm ended exactly as it should."""
        found = []
        if self.unanswered:
            found.append(f"{self.unanswered} deliveries never answered 200")
        if self.jobs != self.expected_jobs:
            missing = len(self.expected_jobs - self.jobs)
            extra = len(self.jobs - self.expected_jobs)
            found.append(f"jobs: {missing} missing, {extra} unexpected")
        doubled = [j for j, n in Counter(self.run_job_ids).items() if n > 1]
        if doubled:
            found.append(f"{len(doubled)} jobs have more than one `run` decision: {doubled[:3]}")
        if len(self.run_job_ids) != len(self.expected_jobs):
            found.append(f"{len(self.run_job_ids)} `run` decisions, {len(self.expected_jobs)} jobs")
        answered = sum(self.decisions.values())
        if answered < self.deliveries:  # more is fine: an answer lost on the way is redelivered
            found.append(f"{answered} decisions logged for {self.deliveries} deliveries")
        return found + self.state_problems

    def lines(self) -> list[str]:
        rate = self.deliveries / self.seconds
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000 if lat else 0.0
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0.0
        longest = lat[-1] if lat else 0.0
        return [
            f"storm: {self.deliveries} deliveries of {self.messages} messages through "
            f"{self.processes} handler processes in {self.seconds:.1f} s ({rate:.0f} deliveries/s)",
            f"  redeliveries: {self.attempts - self.deliveries} (after a 500, TransientError, "
            f"or an answer lost on the way: {self.lost})",
            f"  latency per delivery: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
            f"longest {longest:.1f} s (redeliveries included)",
            *[f"  chaos: {c}" for c in self.chaos],
            f"  jobs in Vertex: {len(self.jobs)} (expected {len(self.expected_jobs)}); "
            f"decisions: {dict(sorted(self.decisions.items()))}",
            "  result: " + ("exactly the expected runs" if not self.problems() else "FAILED"),
            *[f"  problem: {p}" for p in self.problems()],
        ]


def write_specs(directory: Path, count: int) -> list[str]:
    """`count` specs, each watching its own table, running on every new write in a new window
    (the expected runs do not depend on delivery order while each table has one window)."""
    base = yaml.safe_load(BASE_SPEC.read_text())
    tables = []
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        table = f"acme-analytics.storm.table_{i:03d}"
        data = {
            **base,
            "name": f"storm-{i:03d}",
            "data": {**base["data"], "table": table, "query": None},
            "promotion": {**base["promotion"], "registry_model": f"storm-{i:03d}"},
            "triggers": {
                "data_arrival": {
                    "min_new_rows": 1,
                    "debounce": "1h",
                    "max_concurrent_runs": 100,
                    "when_busy": "wait",
                },
                "drift": {"action": "retrain"},
            },
        }
        (directory / f"storm-{i:03d}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        tables.append(table)
    return tables


def make_messages(tables: list[str], messages: int) -> list[dict[str, Any]]:
    """Four in five messages are writes to watched tables (one window each), the rest to
    tables nobody watches."""
    bodies = []
    for i in range(messages):
        if i % 5 == 4:
            table, when = f"acme-analytics.raw.clicks_{i}", T0
        else:
            watched = i - i // 5  # how many watched writes came before this one
            table = tables[watched % len(tables)]
            when = T0 + timedelta(hours=2 * (watched // len(tables)))
        entry = table_data_change_entry(table, 50 + i, f"storm-job-{i}", when)
        bodies.append(pubsub_body(entry, f"storm-msg-{i}", {}))
    return bodies


def expected_jobs(specs_dir: Path, bodies: list[dict[str, Any]]) -> set[str]:
    index = load_index(specs_dir)
    found = set()
    for body in bodies:
        event = decode_data_arrival(unwrap(body).payload)
        if not isinstance(event, DataArrival):
            continue
        window = f"window:{window_of(event.time, '1h')}"
        for spec in index.watching(event.table):
            found.add(derive_job_id(spec.name, index.version(spec.name), "data_arrival", window))
    return found


def post(url: str, body: bytes, event_id: str) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "ce-id": event_id,
            "ce-specversion": "1.0",
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-source": "//pubsub.googleapis.com/projects/retrain-local/topics/storm",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 599


def decisions_in(logs: list[Path]) -> list[dict[str, Any]]:
    found = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"decision"' in line:
                found.append(json.loads(line))
    return found


@contextmanager
def template_registry() -> Iterator[dict[str, str]]:
    """A registry stand-in holding the template every spec runs: the RETRAIN_* it needs."""
    registry = FakeRegistry().start()
    try:
        spec = json.loads(TEMPLATE.read_text())["pipelineSpec"]
        registry.publish(TEMPLATE_URI.format(git_sha=GIT_SHA), spec)
        yield {
            "RETRAIN_TEMPLATE_URI": TEMPLATE_URI,
            "RETRAIN_TEMPLATE_REGISTRY_ENDPOINT": registry.endpoint,
        }
    finally:
        registry.stop()


@contextmanager
def firestore_host(logs: Path) -> Iterator[str]:
    """FIRESTORE_EMULATOR_HOST when set, else an emulator started (and stopped) here."""
    if os.environ.get("FIRESTORE_EMULATOR_HOST"):
        yield os.environ["FIRESTORE_EMULATOR_HOST"]
        return
    proc = start_firestore_emulator(logs)
    try:
        yield f"127.0.0.1:{proc.port}"
    finally:
        proc.stop()


SKEW = 20 * 60  # seconds the skewed instance's clock is ahead
LEASE_SECONDS = 5  # claims' lease in the chaos storm (120 s deployed): take-overs happen in it
WAKE_UP_DEADLINE = 90.0  # seconds of wake-up ticks after the deliveries, at most


def start_skewed_function(target: str, env: dict[str, str], logs: Path) -> Proc:
    """A function instance whose clock is SKEW seconds ahead (bench/skewed_functions.py)."""
    port = free_port()
    source = REPO / "bench" / "skewed_functions.py"
    argv = [sys.executable, "-m", "functions_framework", "--target", target,
            "--signature-type", "cloudevent", "--source", str(source),
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    skewed = {**env, "RETRAIN_STORM_CLOCK_SKEW": str(SKEW)}
    proc = start(f"{target}-skewed", argv, port, logs / f"{target}.log", skewed)
    proc.wait_ready(60)
    return proc


def kill_hard(proc: Proc) -> None:
    """SIGKILL, as a platform ends an instance: no handler runs, nothing is released."""
    import signal

    os.killpg(proc.pgid, signal.SIGKILL)
    proc.stop()


def state_problems(
    firestore: str, prefix: str, specs_dir: Path, bodies: list[dict[str, Any]]
) -> list[str]:
    """The invariants read from Firestore: every watched write's rows are in exactly one
    accepted run or still pending, no claim is left unsettled, no spec over its limit."""
    from retrain.google.firestore import FirestoreStore

    store = FirestoreStore("retrain-local", prefix, emulator=firestore)
    index = load_index(specs_dir)
    rows: Counter[str] = Counter()
    for body in bodies:
        event = decode_data_arrival(unwrap(body).payload)
        if isinstance(event, DataArrival):
            for spec in index.watching(event.table):
                rows[spec.name] += event.rows or 0
    found = []
    for spec in index.specs():
        state = store.read(spec.name)
        if state is None:
            found.append(f"{spec.name}: no state written")
            continue
        held = sum(c.rows for c in state.claims)
        if held + state.pending_rows != rows[spec.name]:
            found.append(
                f"{spec.name}: {held} rows in runs + {state.pending_rows} pending, "
                f"{rows[spec.name]} written"
            )
        unsettled = [c.job_id for c in state.claims if not c.accepted]
        if unsettled:
            found.append(f"{spec.name}: claims never settled: {unsettled}")
        policy = spec.triggers.data_arrival
        if policy and len(state.claims) > policy.max_concurrent_runs:
            limit = policy.max_concurrent_runs
            found.append(f"{spec.name}: {len(state.claims)} runs, limit {limit}")
    return found


def run_storm(
    firestore: str,
    work: Path,
    *,
    messages: int,
    deliveries: int,
    processes: int,
    specs: int = 0,
    concurrency: int = 16,
    seed: int = 7,
    chaos: bool = False,
) -> StormResult:
    """`specs` 0: one spec per watched message. A table written in two windows would make the
    runs depend on delivery order (windows only move forward: a later window delivered first
    keeps the earlier window's rows for the wake-up), and the storm checks exact job sets."""
    specs_dir = work / "specs"
    tables = write_specs(specs_dir, specs or messages - messages // 5)
    bodies = make_messages(tables, messages)
    expected = expected_jobs(specs_dir, bodies)
    vertex = FakeVertex().start()
    procs: list[Proc] = []
    done_chaos: list[str] = []
    prefix = f"storm{uuid.uuid4().hex[:8]}"
    templates = template_registry()
    try:
        env = {
            **templates.__enter__(),
            **os.environ,
            "FIRESTORE_EMULATOR_HOST": firestore,
            "RETRAIN_STATE": "firestore",
            "RETRAIN_STATE_PREFIX": prefix,
            "RETRAIN_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS if chaos else 120),
            "RETRAIN_SPECS_DIR": str(specs_dir),
            "RETRAIN_PROJECT": "retrain-local",
            "RETRAIN_BACKEND": "vertex",
            "RETRAIN_SERVICE_ACCOUNT": PIPELINES_SA,
            "RETRAIN_VERTEX_ENDPOINT": vertex.endpoint,
            "RETRAIN_PIPELINE_ROOT": "gs://storm/root",
            "RETRAIN_SERVING_ROOT": "gs://storm/serving",
            "RETRAIN_GIT_SHA": GIT_SHA,
            "PYTHONUNBUFFERED": "1",
        }
        logs = work / "logs"
        for i in range(processes):
            if chaos and i == 0:
                procs.append(start_skewed_function("on_data_arrival", env, logs / "p0"))
                done_chaos.append(f"instance 0's clock is {SKEW // 60} minutes ahead")
            else:
                procs.append(start_function("on_data_arrival", env, logs / f"p{i}"))
        urls = [p.url for p in procs]
        encoded = [json.dumps(b).encode() for b in bodies]
        plan = [i for i in range(len(bodies)) for _ in range(deliveries // len(bodies))]
        plan += list(range(deliveries - len(plan)))
        rng = random.Random(seed)
        rng.shuffle(plan)
        lock = threading.Lock()
        latencies: list[float] = []
        attempts = 0
        lost = 0
        unanswered = 0

        def faults(n: int) -> None:
            """At fixed points of the plan: Vertex unavailable then throttling, and an
            instance killed and started again (its URL answers nothing meanwhile)."""
            if n == len(plan) // 5:
                vertex.fail_next(503, times=20)
                vertex.fail_next(429, times=20)
                done_chaos.append("Vertex answered 20 x 503 then 20 x 429, then recovered")
            if n == len(plan) // 3:
                victim = 1 % len(procs)
                kill_hard(procs[victim])
                restarted = start_function("on_data_arrival", env, logs / f"p{victim}-again")
                procs.append(restarted)
                urls[victim] = restarted.url
                done_chaos.append(f"instance {victim} SIGKILLed mid-storm and started again")

        def deliver(n: int, message: int) -> None:
            nonlocal attempts, lost, unanswered
            if chaos:
                faults(n)
            start = time.perf_counter()
            for attempt in range(MAX_ATTEMPTS):
                status = post(urls[(n + attempt) % len(urls)], encoded[message], f"d{n}-{attempt}")
                with lock:
                    attempts += 1
                    lost += status == 599
                if status == 200:
                    with lock:
                        latencies.append(time.perf_counter() - start)
                    return
                time.sleep(min(0.05 * 2**attempt, 1.0))
            with lock:
                unanswered += 1

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(deliver, range(len(plan)), plan))
        seconds = time.perf_counter() - started

        def settled() -> bool:
            jobs = {name.rsplit("/", 1)[-1] for name in vertex.jobs}
            return jobs >= expected and not state_problems(firestore, prefix, specs_dir, bodies)

        if chaos:
            done_chaos.append(wake_up(env, logs, procs, settled))
        problems = state_problems(firestore, prefix, specs_dir, bodies)
    finally:
        for proc in procs:
            proc.stop()
        vertex.stop()
        templates.__exit__(None, None, None)
    records = decisions_in([p.log for p in procs])
    return StormResult(
        messages=len(bodies),
        deliveries=len(plan),
        processes=processes,
        seconds=seconds,
        attempts=attempts,
        lost=lost,
        unanswered=unanswered,
        expected_jobs=expected,
        jobs={name.rsplit("/", 1)[-1] for name in vertex.jobs},
        decisions=Counter(r["decision"] for r in records),
        run_job_ids=[r["job_id"] for r in records if r["decision"] == "run"],
        latencies=latencies,
        state_problems=problems,
        chaos=done_chaos,
    )


def wake_up(env: dict[str, str], logs: Path, procs: list[Proc], settled: Callable[[], bool]) -> str:
    """Wake-up ticks, as Cloud Scheduler sends them, until every expected job exists and every
    claim is settled (claims a killed instance held are taken over once their lease has run
    out), bounded in time."""
    ticker = start_function("on_schedule", env, logs / "wake-up")
    procs.append(ticker)
    tick = json.dumps(pubsub_body({"flush": "due"}, "flush", {})).encode()
    started = time.perf_counter()
    ticks = 0
    while time.perf_counter() - started < WAKE_UP_DEADLINE:
        time.sleep(1.0)
        ticks += 1
        post(ticker.url, tick, f"flush-{ticks}")
        if settled():
            break
    return f"{ticks} wake-up tick(s) in {time.perf_counter() - started:.1f} s after the storm"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workdir", default="", help="keep specs and handler logs here")
    parser.add_argument("--chaos", action="store_true", help="skew, SIGKILL, Vertex outage")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        with firestore_host(work / "logs") as host:
            result = run_storm(
                host,
                work,
                messages=args.messages,
                deliveries=args.deliveries,
                processes=args.processes,
                concurrency=args.concurrency,
                chaos=args.chaos,
            )
    for line in result.lines():
        print(line)
    return 1 if result.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
