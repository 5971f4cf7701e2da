"""`retrain up`: emulators, one functions-framework server per function, and the Pub/Sub
topics and push subscriptions (with a dead-letter topic) that connect them."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from retrain.errors import RetrainError
from retrain.google.pubsub import wire_topics
from retrain.localstack import signals
from retrain.localstack.ticker import Ticker
from retrain.processes.procs import Proc, free_port, start
from retrain.topics import DEAD_LETTER_TOPIC, TOPICS

FUNCTIONS_SOURCE = Path(__file__).resolve().parents[3] / "functions" / "main.py"


@dataclass
class StackConfig:
    project: str = "retrain-local"
    specs_dir: Path = Path("specs")
    workdir: Path = Path("work")
    logs_dir: Path = Path("work/logs")
    firestore: bool = True
    functions: tuple[str, ...] = tuple(TOPICS)
    env: dict[str, str] = field(default_factory=dict)  # extra RETRAIN_* for the functions
    max_delivery_attempts: int = 5
    flush_every: float = 5.0  # seconds between wake-up ticks (the cloud: every minute); 0: none


def _gcloud() -> str:
    found = shutil.which("gcloud")
    if found is None:
        raise RetrainError(
            "gcloud is not on PATH (the Pub/Sub and Firestore emulators come with it)"
        )
    return found


def start_pubsub_emulator(project: str, logs: Path) -> Proc:
    port = free_port()
    argv = [_gcloud(), "beta", "emulators", "pubsub", "start", f"--host-port=127.0.0.1:{port}",
            f"--project={project}", "--quiet"]  # fmt: skip
    proc = start("pubsub-emulator", argv, port, logs / "pubsub-emulator.log")
    proc.wait_ready(90)
    return proc


def start_firestore_emulator(logs: Path) -> Proc:
    port = free_port()
    argv = [_gcloud(), "beta", "emulators", "firestore", "start", f"--host-port=127.0.0.1:{port}",
            "--quiet"]  # fmt: skip
    proc = start("firestore-emulator", argv, port, logs / "firestore-emulator.log")
    proc.wait_ready(90)
    return proc


def start_function(target: str, env: dict[str, str], logs: Path) -> Proc:
    port = free_port()
    argv = [sys.executable, "-m", "functions_framework", "--target", target,
            "--signature-type", "cloudevent", "--source", str(FUNCTIONS_SOURCE),
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    proc = start(target, argv, port, logs / f"{target}.log", env)
    proc.wait_ready(60)
    return proc


class LocalStack:
    """Start with `start()` (or `with`); `stop()` stops every process group it started."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.procs: dict[str, Proc] = {}
        self.env: dict[str, str] = {}
        self.ticker: Ticker | None = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        cfg = self.config
        logs = cfg.logs_dir.resolve()
        try:
            self.procs["pubsub"] = start_pubsub_emulator(cfg.project, logs)
            self.env["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{self.procs['pubsub'].port}"
            if cfg.firestore:
                self.procs["firestore"] = start_firestore_emulator(logs)
                self.env["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{self.procs['firestore'].port}"
            os.environ.update(self.env)  # this process publishes and wires through them too
            function_env = {
                **os.environ,
                **self.env,
                "RETRAIN_PROJECT": cfg.project,
                "RETRAIN_SPECS_DIR": str(cfg.specs_dir.resolve()),
                "RETRAIN_WORKDIR": str(cfg.workdir.resolve()),
                "RETRAIN_COMPLETION_TOPIC": TOPICS["on_run_complete"],
                "RETRAIN_DRIFT_TOPIC": TOPICS["on_drift_alert"],
                "RETRAIN_STATE": "firestore" if cfg.firestore else "memory",
                "PYTHONUNBUFFERED": "1",
                **cfg.env,
            }
            for target in cfg.functions:
                self.procs[target] = start_function(target, function_env, logs)
            wire_topics(
                cfg.project,
                TOPICS,
                {t: self.procs[t].url for t in cfg.functions},
                DEAD_LETTER_TOPIC,
                cfg.max_delivery_attempts,
            )
            if cfg.flush_every > 0 and "on_schedule" in cfg.functions:
                self.ticker = Ticker(cfg.project, TOPICS["on_schedule"], cfg.flush_every).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the ticker and every group; a signal meanwhile forces the stop instead of
        interrupting it."""
        if self.ticker is not None:
            self.ticker.stop()
            self.ticker = None
        errors = []
        with signals.stopping():
            for name in reversed(list(self.procs)):
                try:
                    self.procs.pop(name).stop()
                except RetrainError as exc:
                    errors.append(str(exc))
        for key in self.env:
            os.environ.pop(key, None)
        if errors:
            raise RetrainError("; ".join(errors))

    def describe(self) -> list[str]:
        lines = [f"{name:<20} {proc.url:<28} log {proc.log}" for name, proc in self.procs.items()]
        lines += [f"topic {topic} -> {target}" for target, topic in TOPICS.items()]
        if self.ticker is not None:
            lines.append(f"wake-up tick every {self.config.flush_every:g} s -> on_schedule")
        lines.append(
            f"topic {DEAD_LETTER_TOPIC} (after {self.config.max_delivery_attempts} attempts)"
        )
        lines += [f"export {k}={v}" for k, v in self.env.items()]
        return lines
