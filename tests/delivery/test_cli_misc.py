"""Small CLI additions: validate --format github, infra match."""

from __future__ import annotations

from pathlib import Path

from retrain.cli.spec_cmds import github_annotation
from retrain.errors import Problem

from .helpers import REPO, retrain


def test_github_annotations_point_at_the_line() -> None:
    problem = Problem(
        "specs/churn.yaml", 23, "trainer.train_steps", "Input should be > 0, not 'a:b'\nx"
    )
    assert github_annotation(problem) == (
        "::error file=specs/churn.yaml,line=23,title=trainer.train_steps::"
        "Input should be > 0, not 'a:b'%0Ax"
    )


def test_validate_format_github(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "specs" / "churn.yaml").read_text().replace("owner:", "ownr:"))
    done = retrain("validate", "--format", "github", str(bad))
    assert done.returncode == 1
    assert any(
        line.startswith(f"::error file={bad},line=") and "title=ownr::unknown field" in line
        for line in done.stdout.splitlines()
    ), done.stdout
    assert retrain("validate", "--format", "github").returncode == 0


def test_infra_match_names_the_sink() -> None:
    golden = REPO / "tests" / "golden" / "events"
    hit = retrain(
        "infra", "match", str(golden / "pipeline_succeeded.json"), "--project", "acme-analytics"
    )
    assert hit.returncode == 0 and '"sinks": ["run_complete"]' in hit.stdout
    miss = retrain(
        "infra", "match", str(golden / "pipeline_running.json"), "--project", "acme-analytics"
    )
    assert miss.returncode == 1 and '"sinks": []' in miss.stdout
