"""The local code host: threads as files, printed; the same one-comment and one-PR rules."""

from __future__ import annotations

import io
from pathlib import Path

import yaml

from retrain.codehost import LocalCodeHost, PromotionRequest
from retrain.report import comment_marker
from tests.fakes.github_client import REPO_ROOT


def test_comment_thread_is_written_updated_in_place_and_printed(tmp_path: Path) -> None:
    out = io.StringIO()
    host = LocalCodeHost(tmp_path, REPO_ROOT, out)
    marker = comment_marker("churn", 42)
    first = host.upsert_comment(42, marker, "auc 0.80")
    host.upsert_comment(42, comment_marker("house-prices", 42), "rmse 61")
    again = host.upsert_comment(42, marker, "auc 0.81")
    assert first.created and not again.created and first.id == again.id
    files = sorted((tmp_path / "codehost" / "pr-42" / "comments").glob("*.md"))
    assert [f.read_text() for f in files] == [
        f"{marker}\nauc 0.81",
        f"{comment_marker('house-prices', 42)}\nrmse 61",
    ]
    printed = out.getvalue()
    assert printed.count("== PR #42: 2 comment(s)") == 2 and printed.rstrip().endswith("rmse 61")


def test_promotion_pr_is_opened_then_updated(tmp_path: Path) -> None:
    host = LocalCodeHost(tmp_path, REPO_ROOT, io.StringIO())
    request = PromotionRequest("churn", "specs/churn.yaml", "run-1", "Promote churn to run-1", "b")
    first = host.open_or_update_promotion(request)
    newer = PromotionRequest("churn", "specs/churn.yaml", "run-2", "Promote churn to run-2", "b")
    second = host.open_or_update_promotion(newer)
    assert first is not None and second is not None
    assert first.created and not second.created and first.number == second.number
    edited = tmp_path / "codehost" / f"pr-{first.number}" / "files" / "specs" / "churn.yaml"
    assert yaml.safe_load(edited.read_text())["promotion"]["version"] == "run-2"
    assert "version" not in (REPO_ROOT / "specs" / "churn.yaml").read_text()  # checkout untouched
