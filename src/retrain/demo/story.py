"""The product's story on one machine: data lands, a run starts, a PR is compared, drift is
judged. Everything goes through the real local stack (Pub/Sub emulator, Firestore emulator,
functions-framework servers, TFX LocalDagRunner), and every claim is checked by reading what
the stack wrote.

The demo works in a sandbox under its work directory (copies of the example specs alone and
freshly generated data), so appending rows or editing a spec never touches the checkout, and a
user's own spec in specs/ never changes the demo.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from retrain.codehost.local import LocalPull
from retrain.data.samples import DEFAULT_ROWS, GENERATORS, example_spec_files, write_csv
from retrain.delivery.candidate import candidate_request
from retrain.demo.observe import (
    TERMINAL_STATES,
    DemoError,
    LoggedDecision,
    decisions,
    job_progress,
    job_record,
    pr_comments,
    promotion_pulls,
    wait_for,
)
from retrain.demo.review import (
    checkout_main,
    commit_on_branch,
    head,
    init_repository,
    merge_promotion,
)
from retrain.events.bigquery import table_data_change_entry
from retrain.localstack.stack import LocalStack, StackConfig
from retrain.processes import procs
from retrain.runs import snapshot_time
from retrain.spec import Spec, load_spec
from retrain.spec.tfschema import schema_path
from retrain.topics import TOPICS

PROJECT = "retrain-demo"
RUN_TIMEOUT = 900.0
MONITORING_LOG = "aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"


@dataclass
class DemoOptions:
    repo: Path
    workdir: Path
    pipelines_python: Path  # the pipeline environment the stack's runs use
    spec: str = "churn"
    drift_spec: str = "house-prices"
    pr_number: int = 41
    train_steps: int | None = None  # smaller for tests; None keeps the spec's
    rows_scale: float = 1.0
    intervals: bool = True  # False: evaluation.confidence_level null (TFMA's bootstrap is slow)


@dataclass
class Check:
    what: str
    ok: bool


@dataclass
class Laps:
    """Event-to-comment latency, stage by stage (resolution: the 0.5-1 s polling interval)."""

    stages: list[tuple[str, float]] = field(default_factory=list)
    last: float = field(default_factory=time.monotonic)

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.stages.append((stage, now - self.last))
        self.last = now

    def line(self) -> str:
        total = sum(took for _, took in self.stages)
        parts = " + ".join(f"{stage} {took:.1f}s" for stage, took in self.stages)
        return f"{total:.1f}s = {parts}"


@dataclass
class DemoReport:
    checks: list[Check] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    decisions: list[LoggedDecision] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)
    comments: dict[str, Path] = field(default_factory=dict)
    latency: dict[str, Laps] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


class Story:
    def __init__(self, options: DemoOptions, out: TextIO) -> None:
        self.o = options
        self.out = out
        self.report = DemoReport()
        self.sandbox = options.workdir / "repo"
        self.runs_dir = options.workdir / "runs"
        self.logs_dir = options.workdir / "logs"
        self.codehost = self.runs_dir / "codehost"
        self.own_runs: list[str] = []  # runs this process submitted (the stack owns the rest)
        self.deployed_sha = ""  # main's first commit, once the sandbox is made

    # -- narration ------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def check(self, what: str, ok: bool) -> None:
        self.report.checks.append(Check(what, ok))
        self.say(f"    {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            raise DemoError(f"did not happen: {what}")

    # -- sandbox --------------------------------------------------------------------------

    def prepare_sandbox(self) -> None:
        shutil.rmtree(self.o.workdir, ignore_errors=True)
        specs = self.sandbox / "specs"
        specs.mkdir(parents=True)
        for source in example_spec_files(self.o.repo / "specs"):
            text = source.read_text()
            if self.o.train_steps is not None:
                text = re.sub(r"train_steps: \d+", f"train_steps: {self.o.train_steps}", text)
            if not self.o.intervals:
                text = text.replace(
                    "\nevaluation:\n", "\nevaluation:\n  confidence_level: null\n", 1
                )
            (specs / source.name).write_text(text)
            schema = schema_path(source)
            (specs / schema.name).write_text(schema.read_text())
        init_repository(self.sandbox)
        self.deployed_sha = head(self.sandbox)
        for name, generator in GENERATORS.items():
            spec = self.spec(name)
            rows = max(200, int(DEFAULT_ROWS[name] * self.o.rows_scale))
            write_csv(self.sandbox / spec.data.local.path, generator(rows, 7, 0.0))

    def spec(self, name: str) -> Spec:
        return load_spec(self.sandbox / "specs" / f"{name}.yaml")

    def stack_env(self) -> dict[str, str]:
        """Settings shared by the function servers and this process (which submits PR runs)."""
        return {
            "RETRAIN_PROJECT": PROJECT,
            "RETRAIN_SPECS_DIR": str((self.sandbox / "specs").resolve()),
            "RETRAIN_WORKDIR": str(self.runs_dir.resolve()),
            "RETRAIN_COMPLETION_TOPIC": TOPICS["on_run_complete"],
            "RETRAIN_DRIFT_TOPIC": TOPICS["on_drift_alert"],
            "RETRAIN_REPO_ROOT": str(self.sandbox.resolve()),
            "RETRAIN_PIPELINES_PYTHON": str(self.o.pipelines_python),
            "RETRAIN_CODEHOST": "local",
            "RETRAIN_GIT_SHA": self.deployed_sha,  # what the stack "deploys": main's first commit
            "RETRAIN_BACKEND": "local",
        }

    # -- helpers --------------------------------------------------------------------------

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        from retrain.google.pubsub import PubSubPublisher

        PubSubPublisher(PROJECT).publish(topic, payload, {})

    def decision(
        self, function: str, spec: str, kinds: set[str], job_id: str = "", skip: int = 0
    ) -> LoggedDecision | None:
        found = [
            d
            for d in decisions(self.logs_dir)
            if d.function == function
            and d.spec == spec
            and d.decision in kinds
            and (not job_id or d.job_id == job_id)
        ]
        return found[skip] if len(found) > skip else None

    def wait_run(self, job_id: str) -> str:
        """Follow a run's progress lines until its job record is terminal; return the state."""
        shown = 0
        started = time.monotonic()

        def finished() -> str | None:
            nonlocal shown
            lines = job_progress(self.runs_dir, job_id)
            for line in lines[shown:]:
                self.say(f"      {line}")
            shown = len(lines)
            record = job_record(self.runs_dir, job_id) or {}
            return TERMINAL_STATES.get(str(record.get("state", "")))

        state = wait_for(f"run {job_id} to finish", finished, RUN_TIMEOUT, poll=1.0)
        self.say(f"    run {job_id} {state} in {time.monotonic() - started:.0f}s")
        self.report.runs[job_id] = state
        return state

    def wait_completed(self, job_id: str) -> LoggedDecision:
        return wait_for(
            f"on_run_complete to handle {job_id}",
            lambda: next(
                (
                    d
                    for d in decisions(self.logs_dir)
                    if d.function == "on_run_complete" and d.job_id == job_id
                ),
                None,
            ),
            120,
        )

    def show(self, comment: str) -> None:
        """The head of a comment (verdict and metric table), as a reviewer first sees it."""
        for line in comment.splitlines()[1:]:
            if line.startswith("<sub>"):
                break
            self.say(f"      | {line}")

    def step(self, number: int, title: str) -> float:
        self.say(f"\n[{number}] {title}")
        return time.monotonic()

    def timed(self, name: str, started: float) -> None:
        took = time.monotonic() - started
        self.report.timings[name] = took
        self.say(f"    ({took:.1f}s)")

    # -- the story ------------------------------------------------------------------------

    def run(self) -> DemoReport:
        total = time.monotonic()
        started = self.step(0, "sandbox and local stack")
        self.prepare_sandbox()
        self.say(f"    sandbox {self.sandbox} (example specs copied, data generated)")
        config = StackConfig(
            project=PROJECT,
            specs_dir=self.sandbox / "specs",
            workdir=self.runs_dir,
            logs_dir=self.logs_dir,
            env=self.stack_env(),
        )
        previous = {k: os.environ.get(k) for k in self.stack_env()}
        os.environ.update(self.stack_env())
        try:
            with LocalStack(config) as stack:
                for line in stack.describe():
                    if not line.startswith("export"):
                        self.say(f"    {line}")
                self.timed("stack", started)
                try:
                    self.data_arrival()
                    self.pull_request()
                    self.drift_alert()
                    self.table_schema_drift()
                finally:
                    self.stop_own_runs()
        finally:
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.say("    local stack stopped; no process left behind")
        self.report.timings["total"] = time.monotonic() - total
        self.summarise()
        return self.report

    def stop_own_runs(self) -> None:
        """A candidate run this process submitted is not in the stack's process groups: stop
        it here if it is still going (each run leads its own group, see LocalBackend)."""
        for job_id in self.own_runs:
            pid = int((job_record(self.runs_dir, job_id) or {}).get("pid") or 0)
            if pid:
                procs.stop_tree(pid)

    def data_arrival(self) -> None:
        spec = self.spec(self.o.spec)
        started = self.step(
            1, f"new rows land in {spec.data.table}: the production model of {spec.name}"
        )
        policy = spec.triggers.data_arrival
        rows = max(policy.min_new_rows if policy else 1, 600)
        path = self.sandbox / spec.data.local.path
        written = write_csv(path, GENERATORS[spec.name](rows, 11, 0.0), append=True)
        job = f"retrain_append_{uuid.uuid4().hex[:12]}"
        entry = table_data_change_entry(spec.data.table, written, job, datetime.now(timezone.utc))
        self.say(f"    appended {written} rows to {path}; BigQuery's audit entry -> Pub/Sub")
        laps = self.report.latency["audit entry -> promotion PR comment"] = Laps()
        self.publish(TOPICS["on_data_arrival"], entry)
        run = wait_for(
            "the data-arrival decision",
            lambda: self.decision("on_data_arrival", spec.name, {"run", "debounced", "ignored"}),
            60,
        )
        laps.lap("Pub/Sub + decision")
        self.say(f"    on_data_arrival decided: {run.decision} {run.job_id} ({run.reason})")
        self.check(f"data arrival started run {run.job_id}", run.decision == "run")

        self.say("    the same audit entry is delivered again (Pub/Sub delivers at least once)")
        self.publish(TOPICS["on_data_arrival"], entry)
        duplicate = wait_for(
            "the duplicate's decision",
            lambda: self.decision("on_data_arrival", spec.name, {"run", "deduplicated"}, skip=1),
            60,
        )
        self.say(f"    on_data_arrival decided: {duplicate.decision} ({duplicate.reason})")
        self.check(
            "the duplicate delivery was deduplicated, no second run",
            duplicate.decision == "deduplicated" and duplicate.job_id in ("", run.job_id),
        )
        self.check("the run succeeded", self.wait_run(run.job_id) == "succeeded")
        laps.lap("TFX run")
        self.wait_completed(run.job_id)
        laps.lap("completion event")
        pulls = wait_for(
            "the promotion PR",
            lambda: [p for p in promotion_pulls(self.codehost) if spec.name in p["head"]] or None,
            60,
        )
        number = int(pulls[0]["number"])
        comments = wait_for("its comment", lambda: pr_comments(self.codehost, number) or None, 60)
        laps.lap("comparison + comment")
        self.report.comments[f"promotion PR #{number}"] = comments[0]
        self.say(f"    promotion PR #{number}: {pulls[0]['title']}")
        self.say(f"    comparison comment: {comments[0]}")
        self.show(comments[0].read_text())
        self.check(
            f"promotion PR #{number} carries the comparison",
            "<!-- retrain:comparison" in comments[0].read_text(),
        )
        commit = merge_promotion(self.sandbox, self.codehost / f"pr-{number}")
        self.say(f"    the reviewer merges PR #{number}: {spec.name}@champion is {run.job_id}")
        self.check(
            f"main ({commit[:12]}) records {run.job_id} as {spec.name}'s production version",
            self.spec(spec.name).promotion.version == run.job_id,
        )
        self.timed("data_arrival", started)

    def pull_request(self) -> None:
        started = self.step(2, f"a pull request changes {self.o.spec}'s hyperparameters")
        number = self.o.pr_number
        spec_file = self.sandbox / "specs" / f"{self.o.spec}.yaml"
        on_main = self.spec(self.o.spec)  # the default branch's: it names production
        before = spec_file.read_text()
        after = re.sub(r"hidden_units: (\d+)", lambda m: f"hidden_units: {int(m[1]) * 2}", before)
        branch = f"tune/{self.o.spec}-hidden-units"
        pr_sha = commit_on_branch(self.sandbox, branch, spec_file, after, "Double hidden_units")
        try:
            self._candidate(number, on_main, branch, pr_sha)
        finally:
            checkout_main(self.sandbox)  # the PR stays a branch: main and its specs are as merged
        self.timed("pull_request", started)

    def _candidate(self, number: int, on_main: Spec, branch: str, pr_sha: str) -> None:
        spec = self.spec(self.o.spec)
        self.say(
            f"    PR #{number}: hidden_units doubled; the spec validates "
            f"(version {spec.fingerprint()})"
        )
        pull = LocalPull(
            number=number,
            title=f"{spec.name}: wider hidden layers",
            body="Doubles hidden_units.",
            head=branch,
            base="main",
            labels=["retrain"],
        )
        (self.codehost / f"pr-{number}").mkdir(parents=True, exist_ok=True)
        (self.codehost / f"pr-{number}" / "pull.json").write_text(pull.model_dump_json(indent=2))

        # What CI does for a PR (`retrain deploy candidate`), with the local backend: the
        # candidate is judged against production, the model the merged promotion names.
        from retrain.settings import Settings
        from retrain.wiring import build_backend, build_baselines

        settings = Settings.from_env(self.stack_env())
        baseline = build_baselines(settings)(on_main)
        self.say(
            f"    baseline: production {baseline.version}"
            if baseline.uri
            else f"    baseline: none ({baseline.reason})"
        )
        snapshot = snapshot_time(datetime.now(timezone.utc))
        request = candidate_request(spec, pr_sha, number, baseline, snapshot)
        backend = build_backend(settings)
        laps = self.report.latency["PR candidate submitted -> PR comment"] = Laps()
        self.own_runs.append(request.job_id)
        self.check(f"candidate run {request.job_id} submitted", backend.submit(request))
        self.check("the candidate run succeeded", self.wait_run(request.job_id) == "succeeded")
        laps.lap("TFX run")
        self.wait_completed(request.job_id)
        laps.lap("completion event")
        comments = wait_for(
            f"the comment on PR #{number}", lambda: pr_comments(self.codehost, number) or None, 60
        )
        laps.lap("comparison + comment")
        text = comments[0].read_text()
        self.report.comments[f"PR #{number}"] = comments[0]
        verdict = next(
            (line for line in text.splitlines() if line.strip() and not line.startswith("<!--")), ""
        )
        self.say(f"    comment on PR #{number}: {comments[0]}")
        self.show(text)
        self.check(
            f"PR #{number} has one comparison comment against the production model",
            len(comments) == 1 and "no baseline" not in verdict.lower(),
        )
        self.check(
            f"its baseline is the promoted model, {on_main.promotion.version}",
            bool(baseline.uri)
            and f"**Baseline:** production, version `{on_main.promotion.version}`" in text,
        )

    def drift_alert(self) -> None:
        spec = self.spec(self.o.drift_spec)
        started = self.step(3, f"a drift alert arrives for {spec.name}")
        entry = {
            "insertId": f"demo-drift-{uuid.uuid4().hex[:8]}",
            "logName": f"projects/{PROJECT}/logs/{MONITORING_LOG}",
            "resource": {
                "type": "aiplatform.googleapis.com/ModelDeploymentMonitoringJob",
                "labels": {"model_deployment_monitoring_job": "4242"},
            },
            # The documented entry: it names the monitoring job, not the model; the spec's
            # triggers.drift.monitors maps the job to the spec.
            "jsonPayload": {
                "@type": "type.googleapis.com/google.cloud.aiplatform.logging."
                "ModelMonitoringAnomaliesLogEntry",
                "modelDeploymentMonitoringJob": f"projects/{PROJECT}/locations/us-central1/"
                "modelDeploymentMonitoringJobs/4242",
                "deployedModelId": "1",
                "anomalyObjective": "RAW_FEATURE_DRIFT",
                "featureAnomalies": [
                    {
                        "featureDisplayName": spec.features[0].name,
                        "threshold": 0.1,
                        "deviation": 0.34,
                    }
                ],
            },
            "timestamp": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        self.say(
            f"    Model Monitoring: {spec.features[0].name} drifted (0.34 > 0.1); "
            f"{spec.name}'s policy is drift.action={spec.triggers.drift.action}"
        )
        self.publish(TOPICS["on_drift_alert"], entry)
        decided = wait_for(
            "the drift decision",
            lambda: self.decision("on_drift_alert", spec.name, {"run", "ignored", "debounced"}),
            60,
        )
        self.say(f"    on_drift_alert decided: {decided.decision} ({decided.reason})")
        expected = "run" if spec.triggers.drift.action == "retrain" else "ignored"
        self.check(
            f"drift policy '{spec.triggers.drift.action}' was applied", decided.decision == expected
        )
        self.timed("drift", started)

    def table_schema_drift(self) -> None:
        """A column the drift spec reads is removed from its local table: BigQuery's audit
        entry of that schema change reaches on_data_arrival, which alerts at once (no run) and
        raises the spec's notice."""
        from retrain.data.table import drop_column

        spec = self.spec(self.o.drift_spec)
        column = next(f.name for f in spec.features if f.type == "categorical")
        started = self.step(4, f"a column {spec.name} reads is removed from its table")
        entry = drop_column(spec, self.sandbox, column, datetime.now(timezone.utc))
        self.say(f"    removed {column} from {spec.data.local.path}; publishing BigQuery's entry")
        self.publish(TOPICS["on_data_arrival"], entry)
        decided = wait_for(
            "the schema-drift decision",
            lambda: self.decision("on_data_arrival", spec.name, {"ignored"}),
            60,
        )
        self.say(f"    on_data_arrival decided: {decided.decision} ({decided.reason})")
        self.check(
            f"removing {column} raised a schema-drift alert for {spec.name}",
            decided.alert and column in decided.reason,
        )
        notice = wait_for(
            "the spec's notice",
            lambda: next(
                (
                    p
                    for p in self.codehost.glob("issues/*.json")
                    if "schema drifted" in p.read_text()
                ),
                None,
            ),
            30,
        )
        self.report.comments[f"notice ({spec.name})"] = notice
        self.check(
            f"{spec.name}'s owner got a notice naming {column}", column in notice.read_text()
        )
        self.timed("schema_drift", started)

    def summarise(self) -> None:
        self.report.decisions = decisions(self.logs_dir)
        self.say("\n[5] summary")
        self.say("    events and decisions:")
        quiet = [d for d in self.report.decisions if d.event_key == "flush" and not d.spec]
        for d in self.report.decisions:
            if d in quiet:
                continue
            what = d.decision + (" (alert)" if d.alert else "")
            self.say(f"      {d.function:<16} {what:<14} {d.spec:<13} {d.job_id or '-'}")
        self.say(f"      on_schedule      {len(quiet)} wake-up tick(s) with nothing due")
        self.say("    runs:")
        for job_id, state in self.report.runs.items():
            self.say(f"      {job_id:<48} {state}")
        self.say("    comments:")
        for where, path in self.report.comments.items():
            self.say(f"      {where:<18} {path}")
        self.say(f"    function logs: {self.logs_dir}; runs: {self.runs_dir / '_jobs'}")
        timing = ", ".join(f"{k} {v:.0f}s" for k, v in self.report.timings.items())
        self.say(f"    timings: {timing}")
        self.say("    latency by stage:")
        for flow, laps in self.report.latency.items():
            self.say(f"      {flow}: {laps.line()}")
