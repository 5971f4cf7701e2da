"""A stand-in `gcloud` for the build rehearsal: the commands retrain's deploy steps run, each
answered from a small state directory the way the Cloud SDK answers it, and recorded with the
API method it calls for the identity running it. Anything else is refused (exit 2), so a new
command cannot pass unnoticed.

Run as a program (`install(bin_dir, state_dir, account)` writes a `gcloud` shim that runs this
file). State: `<state>/state.json` (pushed images, functions, triggers, scheduler jobs);
requests: `<state>/requests.jsonl`, one `{"account", "method", "argv"}` per API call.

Answers follow the Cloud SDK reference for each command (cited beside it). What this fake
cannot check is whether Google accepts a flag's value; it checks the flags retrain relies on
are there, and that the resources a read names exist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

STATE = "state.json"
_AR_GET = "artifactregistry.projects.locations.repositories.dockerImages.get"
REQUESTS = "requests.jsonl"


class Refused(Exception):
    """The Cloud SDK would fail this command (exit 1) or this fake does not know it (exit 2)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def install(bin_dir: Path, state_dir: Path, account: str) -> Path:
    """Write a `gcloud` program in `bin_dir` that runs this fake as `account`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "gcloud"
    shim.write_text(
        f"#!{sys.executable}\n"
        "import runpy, sys\n"
        f"sys.argv[0] = 'gcloud'\n"
        f"runpy.run_path({str(Path(__file__))!r}, run_name='__main__')\n"
    )
    shim.chmod(0o755)
    (state_dir / "account").write_text(account)
    return shim


def push_image(state_dir: Path, image: str) -> str:
    """Artifact Registry holds `image` (a tag) from now on; returns its digest."""
    state = _load(state_dir)
    digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    state["images"][image] = digest
    _save(state_dir, state)
    return digest


def requests(state_dir: Path) -> list[dict[str, Any]]:
    path = state_dir / REQUESTS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def state(state_dir: Path) -> dict[str, Any]:
    return _load(state_dir)


def _load(state_dir: Path) -> dict[str, Any]:
    path = state_dir / STATE
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    return {"images": {}, "functions": {}, "subscriptions": {}, "jobs": {}}


def _save(state_dir: Path, value: dict[str, Any]) -> None:
    (state_dir / STATE).write_text(json.dumps(value, indent=1, sort_keys=True))


def _digest_of(image: str, pushed: dict[str, str]) -> str | None:
    """The digest of a pushed `REPO:TAG`, or of `REPO@DIGEST` when that digest was pushed to
    that repository (an image is addressable by either)."""
    if "@" in image:
        repository, _, digest = image.partition("@")
        known = {d for tag, d in pushed.items() if tag.rsplit(":", 1)[0] == repository}
        return digest if digest in known else None
    return pushed.get(image)


def _flags(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    positional, flags = [], {}
    for item in argv:
        if item.startswith("--"):
            name, _, value = item[2:].partition("=")
            flags[name] = value
        else:
            positional.append(item)
    return positional, flags


def _need(flags: dict[str, str], *names: str) -> None:
    missing = [n for n in names if n not in flags]
    if missing:
        raise Refused(f"missing --{', --'.join(missing)}", code=2)


def _record(state_dir: Path, method: str, argv: list[str]) -> None:
    account = (state_dir / "account").read_text()
    with (state_dir / REQUESTS).open("a") as out:
        out.write(json.dumps({"account": account, "method": method, "argv": argv}) + "\n")


def answer(argv: list[str], state_dir: Path) -> str:
    """stdout of `gcloud argv`; Refused when the SDK would fail or the command is unknown."""
    words, flags = _flags(argv)
    data = _load(state_dir)
    command = tuple(words[:4])
    if command[:4] == ("artifacts", "docker", "images", "describe"):
        # gcloud artifacts docker images describe IMAGE: GET .../dockerImages/IMAGE
        # (artifactregistry.dockerimages.get); --format=value(image_summary.digest) prints the
        # manifest digest. A tag that was never pushed: NOT_FOUND, exit 1.
        _record(
            state_dir, "artifactregistry.projects.locations.repositories.dockerImages.get", argv
        )
        image = words[4]
        if flags.get("format") != "value(image_summary.digest)":
            raise Refused(f"unsupported --format {flags.get('format')!r}", code=2)
        digest = _digest_of(image, data["images"])
        if digest is None:
            raise Refused(f"ERROR: (gcloud.artifacts.docker.images.describe) NOT_FOUND: {image}")
        return digest + "\n"
    if command[:2] == ("functions", "deploy"):
        # gcloud functions deploy NAME --gen2: functions.create or functions.patch, then the
        # build and the Eventarc trigger (--trigger-topic) it creates.
        _need(flags, "gen2", "project", "region", "runtime", "source", "entry-point",
              "trigger-topic", "service-account", "trigger-service-account",
              "build-service-account")  # fmt: skip
        name = words[2]
        if not (Path(flags["source"]) / "main.py").is_file():
            raise Refused(f"--source {flags['source']} has no main.py")
        exists = name in data["functions"]
        method = "functions.projects.locations.functions." + ("patch" if exists else "create")
        _record(state_dir, method, argv)
        trigger = f"projects/{flags['project']}/locations/{flags['region']}/triggers/{name}-000001"
        data["functions"][name] = {"trigger": trigger, "topic": flags["trigger-topic"]}
        data["subscriptions"][trigger] = (
            f"projects/{flags['project']}/subscriptions/eventarc-{flags['region']}-{name}-sub-1"
        )
        _save(state_dir, data)
        return ""
    if command[:2] == ("functions", "describe"):
        # --format=value(eventTrigger.trigger): the Eventarc trigger of a gen2 function.
        _record(state_dir, "functions.projects.locations.functions.get", argv)
        name = words[2]
        if name not in data["functions"]:
            raise Refused(f"ERROR: (gcloud.functions.describe) NOT_FOUND: function {name}")
        if flags.get("format") != "value(eventTrigger.trigger)":
            raise Refused(f"unsupported --format {flags.get('format')!r}", code=2)
        return str(data["functions"][name]["trigger"]) + "\n"
    if command[:3] == ("eventarc", "triggers", "describe"):
        # --format=value(transport.pubsub.subscription): the subscription Eventarc made.
        _record(state_dir, "eventarc.projects.locations.triggers.get", argv)
        trigger = words[3]
        found = next(
            (
                s
                for t, s in data["subscriptions"].items()
                if t.rsplit("/", 1)[-1] == trigger.rsplit("/", 1)[-1]
            ),
            None,
        )
        if found is None:
            raise Refused(f"ERROR: (gcloud.eventarc.triggers.describe) NOT_FOUND: {trigger}")
        return str(found) + "\n"
    if command[:3] == ("pubsub", "subscriptions", "update"):
        _record(state_dir, "pubsub.projects.subscriptions.patch", argv)
        _need(flags, "dead-letter-topic", "max-delivery-attempts")
        if words[3] not in data["subscriptions"].values():
            raise Refused(f"ERROR: (gcloud.pubsub.subscriptions.update) NOT_FOUND: {words[3]}")
        return ""
    if command[:3] == ("scheduler", "jobs", "list"):
        # --format=json: Job resources (name, schedule, timeZone, pubsubTarget.data base64).
        _record(state_dir, "cloudscheduler.projects.locations.jobs.list", argv)
        return json.dumps(list(data["jobs"].values()))
    if command[:3] in (("scheduler", "jobs", "create"), ("scheduler", "jobs", "update")):
        verb = command[2]
        _record(
            state_dir,
            f"cloudscheduler.projects.locations.jobs.{'create' if verb == 'create' else 'patch'}",
            argv,
        )
        _need(flags, "project", "location", "schedule", "topic", "message-body")
        name = words[4]
        full = f"projects/{flags['project']}/locations/{flags['location']}/jobs/{name}"
        if (verb == "create") == (name in data["jobs"]):
            status = "ALREADY_EXISTS" if verb == "create" else "NOT_FOUND"
            raise Refused(f"ERROR: (gcloud.scheduler.jobs.{verb}) {status}: {full}")
        data["jobs"][name] = {
            "name": full,
            "schedule": flags["schedule"],
            "timeZone": flags.get("time-zone", "Etc/UTC"),
            "pubsubTarget": {
                "topicName": f"projects/{flags['project']}/topics/{flags['topic']}",
                "data": base64.b64encode(flags["message-body"].encode()).decode(),
            },
        }
        _save(state_dir, data)
        return ""
    if command[:3] == ("scheduler", "jobs", "delete"):
        _record(state_dir, "cloudscheduler.projects.locations.jobs.delete", argv)
        data["jobs"].pop(words[3], None)
        _save(state_dir, data)
        return ""
    raise Refused(f"fake gcloud: unsupported command {' '.join(argv[:4])!r}", code=2)


def main() -> int:
    state_dir = Path(os.environ["FAKE_GCLOUD_STATE"])
    try:
        sys.stdout.write(answer(sys.argv[1:], state_dir))
    except Refused as exc:
        sys.stderr.write(f"{exc}\n")
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
