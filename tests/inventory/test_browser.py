"""The inventory site in a real headless chromium: loads clean, stays on the site, shows the
specs' models, renders its charts; a screenshot of each page is kept in the test's directory."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrain.inventory.gather import Inventory
from retrain.inventory.site import write_site
from tests.inventory.browser import browser, serve, visit

pytestmark = pytest.mark.browser

ROWS = "() => [...document.querySelectorAll('#models tbody tr')].map(r => r.dataset.model)"
CHARTS = """() => [...document.querySelectorAll('figure img')].map(i => ({
    src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth, height: i.naturalHeight
}))"""


def test_inventory_pages_in_chromium(inventory: Inventory, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(inventory, site, datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc))
    with serve(site) as base, browser() as chromium:
        index = visit(chromium, base + "index.html", tmp_path / "index.png", ROWS)
        model = visit(chromium, base + "models/churn.html", tmp_path / "churn.png", CHARTS)

    for seen in (index, model):
        assert seen.console_errors == []
        assert seen.failed == []
        assert seen.requests and all(url.startswith(base) for url in seen.requests), seen.requests
    assert index.texts["probe"] == [spec.spec.name for spec in inventory.models]
    charts = model.texts["probe"]
    assert [c["src"] for c in charts] == ["charts/churn-accuracy.svg", "charts/churn-auc.svg"]
    assert all(c["complete"] and c["width"] > 100 and c["height"] > 50 for c in charts), charts
    for shot in ("index.png", "churn.png"):
        assert (tmp_path / shot).stat().st_size > 10_000  # a real picture, not a blank page
