"""cloudbuild.inventory.yaml: it parses, its make target exists, its command is one the CLI
takes, and it publishes what it wrote."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import yaml

from retrain.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]


def test_the_inventory_build_runs_retrain_inventory_and_publishes_it() -> None:
    build: dict[str, Any] = yaml.safe_load((REPO / "cloudbuild.inventory.yaml").read_text())
    steps = {s["id"]: s for s in build["steps"]}
    assert list(steps) == ["setup", "history", "inventory"]
    target = steps["setup"]["args"][0]
    known = subprocess.run(["make", "-n", "-C", str(REPO), target], capture_output=True, text=True)
    assert known.returncode == 0, known.stderr  # make knows how to make it
    script = steps["inventory"]["args"][1]
    retrain, publish = (part.strip() for part in script.split("&&"))
    argv = shlex.split(retrain)
    assert argv[0] == ".venv/bin/retrain"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.cloud, str(args.out)) == ("inventory", True, "build/inventory")
    assert shlex.split(publish)[:4] == ["gcloud", "storage", "rsync", "--recursive"]
    assert "build/inventory" in shlex.split(publish)
