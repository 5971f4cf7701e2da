"""The static site: what it shows, that it escapes, and that it needs nothing from elsewhere."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrain.inventory.charts import series
from retrain.inventory.gather import Inventory
from retrain.inventory.site import model_row, static_text, write_site
from tests.inventory.world import BASELINE_JOB, HOSTILE_TITLE, PROMOTED_JOB

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def site(inventory: Inventory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    write_site(inventory, out, NOW)
    return out


def test_index_row_per_spec_with_production_age_and_staleness(inventory: Inventory) -> None:
    churn = inventory.model("churn")
    assert churn is not None
    row = model_row(churn, NOW)
    assert row["production"] == PROMOTED_JOB
    assert row["age"] == "3.0 days"  # promoted 2026-11-21T09:30Z
    assert row["staleness"] == "3.3 days"  # newest finished run 2026-11-21T01:12Z
    # production's verdict apart from the latest candidate's (a failed PR run: no verdict)
    assert row["production verdict"] == "blessed"
    assert row["latest candidate"].endswith("(failed)") and row["candidate verdict"] == ""
    assert row["notices"] == "1 open"


def test_files_and_links(site: Path) -> None:
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert files == [
        "index.html",
        "models/charts/churn-accuracy.svg",
        "models/charts/churn-auc.svg",
        "models/churn.html",
        "models/house-prices.html",
        "style.css",
    ]
    index = (site / "index.html").read_text()
    assert re.findall(r'data-model="([^"]+)"', index) == ["churn", "house-prices"]
    assert 'href="models/churn.html"' in index


def test_model_page_has_a_chart_and_its_table_per_metric(site: Path) -> None:
    page = (site / "models" / "churn.html").read_text()
    assert re.findall(r'<img src="([^"]+)"', page) == [
        "charts/churn-accuracy.svg",
        "charts/churn-auc.svg",
    ]
    auc = (site / "models" / "charts" / "churn-auc.svg").read_text()
    assert auc.startswith("<svg") and "threshold min 0.75" in auc  # the bound, drawn
    assert "thresholds: min 0.75, max regression 0.02" in page  # and in the table's caption
    assert "contract=monthly" in page  # per slice
    assert BASELINE_JOB in page and PROMOTED_JOB in page
    assert "0.8412" in page  # the promoted run's overall auc, in the table beside the chart


def test_untrusted_text_is_escaped(site: Path) -> None:
    page = (site / "models" / "churn.html").read_text()
    assert "<script>" not in page
    assert "churn: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends" in page
    assert HOSTILE_TITLE not in page


def test_nothing_refers_outside_the_site(site: Path) -> None:
    for path in site.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), path
        assert "<script" not in text, path
        assert "@import" not in text and not re.search(r"url\((?!#)", text), path


def test_charts_are_deterministic(inventory: Inventory, tmp_path: Path, site: Path) -> None:
    write_site(inventory, tmp_path, NOW)
    for name in ("churn-auc.svg", "churn-accuracy.svg"):
        again = (tmp_path / "models" / "charts" / name).read_bytes()
        assert again == (site / "models" / "charts" / name).read_bytes()


def test_charts_draw_the_overall_band_and_at_most_three_worst_slices(
    inventory: Inventory, site: Path
) -> None:
    churn = inventory.model("churn")
    assert churn is not None
    auc = next(s for s in series(churn.runs, churn.history) if s.metric == "auc")
    # five slices in the summary; the three lowest in the newest run are drawn
    assert auc.names == ["overall", "country=FR", "contract=monthly", "country=US"]
    promoted = auc.runs.index(PROMOTED_JOB)
    band = auc.band[promoted]
    assert band is not None and band[0] < 0.8412 < band[1]
    assert auc.band[auc.runs.index(BASELINE_JOB)] is None  # a summary without intervals
    drawn = (site / "models" / "charts" / "churn-auc.svg").read_text()
    assert "overall: confidence interval" in drawn
    assert "slice country=FR" in drawn and "contract=yearly" not in drawn


def test_model_page_lists_notices_and_each_pull_with_its_verdict(site: Path) -> None:
    page = (site / "models" / "churn.html").read_text()
    notices = re.search(r'<ul id="notices">(.*?)</ul>', page)
    assert notices is not None and "#1" in notices.group(1) and "churn" in notices.group(1)
    pulls = dict(re.findall(r'<li data-pull="(\d+)">(.*?)</li>', page))
    assert "blessed" in pulls["1"]  # the merged promotion PR: the run it proposed
    assert "run failed" in pulls["41"]  # the PR whose candidate run failed


def test_static_pages_never_ask_the_reader_to_start_a_stack(site: Path) -> None:
    for path in site.rglob("*.html"):
        assert "start one" not in path.read_text(), path
    assert static_text("no local stack in /w (start one: retrain up --workdir ...)") == (
        "no local stack in /w"
    )
