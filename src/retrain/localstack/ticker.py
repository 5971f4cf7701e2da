"""The local wake-up: what Terraform's `retrain-flush` Cloud Scheduler job does in the cloud,
a tick published to the schedule topic every few seconds (through the Pub/Sub emulator, to
`on_schedule`), so `retrain up` and `make demo` start due runs the same way."""

from __future__ import annotations

import sys
import threading

from retrain.errors import RetrainError
from retrain.events.schedule import FLUSH_BODY
from retrain.google.pubsub import PubSubPublisher


class Ticker:
    def __init__(self, project: str, topic: str, every: float) -> None:
        self._project = project
        self._topic = topic
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retrain-flush", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        publisher = PubSubPublisher(self._project)
        while not self._stop.wait(self._every):
            try:
                publisher.publish(self._topic, FLUSH_BODY, {})
            except RetrainError as exc:  # a ticker thread has no caller: say it, tick again
                print(f"retrain flush ticker: cannot publish: {exc}", file=sys.stderr)
