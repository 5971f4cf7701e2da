"""`retrain run --local` puts its run on the record where status, lineage and the inventory
read local runs, says its thresholds in the spec's words, and exits 3 when the candidate is
not blessed. One small real TFX run of a copy of house-prices whose rmse ceiling no model
meets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, fast_spec_copy

pytestmark = pytest.mark.tfx


def retrain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "retrain"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_a_local_run_not_blessed_is_recorded_and_exits_3(tmp_path: Path) -> None:
    spec = fast_spec_copy("house-prices", tmp_path / "specs", train_steps=40)
    text = spec.read_text()
    assert "{name: rmse, max: 80.0, max_regression: 5.0}" in text
    spec.write_text(text.replace("{name: rmse, max: 80.0,", "{name: rmse, max: 1.0,"))
    work = tmp_path / "work"

    run = retrain("run", str(spec), "--local", "--workdir", str(work), "--run-id", "hp-own-1")
    out = run.stdout
    assert run.returncode == 3, out + run.stderr
    assert "house-prices run hp-own-1: NOT BLESSED" in out
    assert "    rmse at most 1: FAILED (is " in out
    assert "    mae at most 60: passed (is " in out
    assert "root_mean_squared_error" not in out and "{" not in out  # no TFMA names, no JSON

    record = json.loads((work / "_jobs" / "hp-own-1" / "job.json").read_text())
    assert record["state"] == "PIPELINE_STATE_SUCCEEDED"
    assert record["labels"]["retrain-spec"] == "house-prices"
    assert record["labels"]["retrain-trigger"] == "manual"

    status = retrain("status", "house-prices", "--workdir", str(work))
    assert status.returncode == 0, status.stderr
    assert "runs        1 known; newest first:" in status.stdout
    assert "hp-own-1" in status.stdout

    lineage = retrain("lineage", "hp-own-1", "--workdir", str(work))
    assert lineage.returncode == 0, lineage.stderr
    assert "hp-own-1" in lineage.stdout and "no record" not in lineage.stdout

    site = tmp_path / "site"
    inventory = retrain("inventory", "--out", str(site), "--workdir", str(work))
    assert inventory.returncode == 0, inventory.stderr
    pages = "".join(p.read_text() for p in site.rglob("*.html"))
    assert "hp-own-1 (succeeded)" in pages
