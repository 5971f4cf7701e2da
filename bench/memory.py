"""Peak RSS (resource.getrusage in a fresh process each) of the functions as they run: the
functions-framework app with functions/main.py, fed CloudEvents through its test client.

- dismiss: 500 unrelated audit events (Pub/Sub push bodies), production settings (Vertex
  backend, Firestore state; neither is touched). Target < 64 MiB.
- submit: 100 events that each start a run through aiplatform_v1 (REST) against the fake
  Vertex server, state in the Firestore emulator (memory state when no emulator is found).
  Target < 192 MiB.
Baselines in the same run: a bare interpreter, functions_framework, aiplatform_v1 alone, the
high-level aiplatform SDK alone.

    .venv/bin/python bench/memory.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.storm import (  # noqa: E402
    GIT_SHA,
    PIPELINES_SA,
    firestore_host,
    template_registry,
    write_specs,
)
from retrain.localstack.fake_vertex import FakeVertex  # noqa: E402

MIB = 1024 * 1024
PEAK = (
    "import resource, sys\n"
    "sys.stderr.write(repr(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
)

_APP = f"""
import base64, json
from functions_framework import create_app
from retrain.events.bigquery import table_data_change_entry
from datetime import datetime, timedelta, timezone
main = {str(REPO / "functions" / "main.py")!r}
client = create_app("on_data_arrival", main, "cloudevent").test_client()
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
def push(table, i):
    entry = table_data_change_entry(table, 900, f"mem-{{i}}", T0 + timedelta(hours=2 * i))
    data = base64.b64encode(json.dumps(entry).encode()).decode()
    body = {{"message": {{"data": data, "messageId": f"m{{i}}"}}, "subscription": "s"}}
    headers = {{"Content-Type": "application/json", "ce-id": f"m{{i}}", "ce-specversion": "1.0",
               "ce-type": "google.cloud.pubsub.topic.v1.messagePublished", "ce-source": "//x"}}
    answer = client.post("/", headers=headers, data=json.dumps(body))
    assert answer.status_code == 200, answer.get_data(as_text=True)
"""
SUBJECTS = {
    "python (bare interpreter)": "pass",
    "functions_framework imported": "import functions_framework",
    "aiplatform_v1 imported": "from google.cloud import aiplatform_v1",
    "aiplatform SDK imported": "from google.cloud import aiplatform",
    "dismiss: main.py, 500 unrelated events": _APP
    + "for i in range(500):\n    push(f'acme-analytics.raw.clicks_{i % 7}', i)\n",
    "submit: main.py, 100 runs via aiplatform_v1": _APP
    + "for i in range(100):\n    push('acme-analytics.storm.table_000', i)\n",
}
TARGETS = {
    "dismiss: main.py, 500 unrelated events": 64,
    "submit: main.py, 100 runs via aiplatform_v1": 192,
}


def peak_mib(body: str, env: dict[str, str]) -> float:
    """Started from a small shell, not from this process: on Linux, ru_maxrss carries the
    spawning process's image across exec (a direct child of this bench would report ~40 MiB
    more than it ever used)."""
    done = subprocess.run(
        ["/bin/sh", "-c", '"$0" -c "$BENCH_SUBJECT"; exit $?', sys.executable],
        capture_output=True,
        text=True,
        env={**env, "BENCH_SUBJECT": body + "\n" + PEAK},
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"subject failed:\n{done.stderr[-3000:]}")
    return int(done.stderr.strip().splitlines()[-1]) * 1024 / MIB  # ru_maxrss is KiB


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_specs(work / "specs", 20)
        vertex = FakeVertex().start()
        emulator = shutil.which("gcloud") is not None
        try:
            with (
                firestore_host(work / "logs") if emulator else _no_emulator() as host,
                template_registry() as templates,
            ):
                env = {
                    **os.environ,
                    **templates,
                    "PYTHONPATH": f"{REPO}:{REPO / 'src'}",
                    "RETRAIN_SPECS_DIR": str(work / "specs"),
                    "RETRAIN_BACKEND": "vertex",
                    "RETRAIN_SERVICE_ACCOUNT": PIPELINES_SA,
                    "RETRAIN_VERTEX_ENDPOINT": vertex.endpoint,
                    "RETRAIN_PIPELINE_ROOT": "gs://bench/root",
                    "RETRAIN_SERVING_ROOT": "gs://bench/serving",
                    "RETRAIN_GIT_SHA": GIT_SHA,
                    "RETRAIN_STATE": "firestore" if host else "memory",
                    "RETRAIN_STATE_PREFIX": "mem",
                }
                if host:
                    env["FIRESTORE_EMULATOR_HOST"] = host
                results = {name: peak_mib(body, env) for name, body in SUBJECTS.items()}
        finally:
            vertex.stop()
        jobs = len(vertex.jobs)
    base = results["functions_framework imported"]
    state = "Firestore emulator" if emulator else "memory (no emulator found)"
    print(f"peak RSS, fresh process each (state: {state}; {jobs} jobs created in fake Vertex)")
    for name, mib in results.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"  target < {target} MiB: {'met' if mib < target else 'MISSED'}"
        print(f"  {name:<44} {mib:7.1f} MiB   x{mib / base:4.2f} of functions_framework{verdict}")


class _no_emulator:
    def __enter__(self) -> str:
        return ""

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
