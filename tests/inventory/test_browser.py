"""The inventory site in a real headless chromium: loads clean, stays on the site, shows the
specs' models with production's verdict apart from the latest candidate's and their open
notices, lists each PR with its verdict, renders its charts at the page's width; a screenshot
of each page is kept in the test's directory."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrain.inventory.gather import Inventory
from retrain.inventory.site import INDEX_HEADS, write_site
from tests.inventory.browser import browser, serve, visit
from tests.inventory.world import PROMOTED_JOB

pytestmark = pytest.mark.browser

INDEX = """() => ({
    heads: [...document.querySelectorAll('#models thead th')].map(h => h.textContent),
    rows: [...document.querySelectorAll('#models tbody tr')].map(r => ({
        model: r.dataset.model, cells: [...r.children].map(c => c.textContent)
    })),
    text: document.body.innerText
})"""
MODEL = """() => ({
    charts: [...document.querySelectorAll('figure img')].map(i => ({
        src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth,
        height: i.naturalHeight, shown: i.getBoundingClientRect().width
    })),
    notices: [...document.querySelectorAll('#notices li')].map(l => l.textContent),
    pulls: [...document.querySelectorAll('#pulls li')].map(l => l.textContent),
    text: document.body.innerText
})"""


def test_inventory_pages_in_chromium(inventory: Inventory, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(inventory, site, datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc))
    with serve(site) as base, browser() as chromium:
        index = visit(chromium, base + "index.html", tmp_path / "index.png", INDEX)
        model = visit(chromium, base + "models/churn.html", tmp_path / "churn.png", MODEL)

    for seen in (index, model):
        assert seen.console_errors == []
        assert seen.failed == []
        assert seen.requests and all(url.startswith(base) for url in seen.requests), seen.requests
        assert "start one" not in seen.texts["probe"]["text"]  # a static page: no stack advice
    shown = index.texts["probe"]
    assert shown["heads"] == list(INDEX_HEADS)
    assert [r["model"] for r in shown["rows"]] == [spec.spec.name for spec in inventory.models]
    churn = dict(zip(INDEX_HEADS, shown["rows"][0]["cells"], strict=True))
    assert churn["production"] == PROMOTED_JOB and churn["production verdict"] == "blessed"
    assert churn["latest candidate"].endswith("(failed)")
    assert churn["candidate verdict"] == "none"  # its run failed: no verdict, not production's
    assert churn["notices"] == "1 open"

    page = model.texts["probe"]
    assert len(page["notices"]) == 1 and page["notices"][0].startswith("#1 ")
    assert any(p.startswith("#41 ") and p.endswith("run failed") for p in page["pulls"])
    assert any("(promotion, merged)" in p and p.endswith("blessed") for p in page["pulls"])
    charts = page["charts"]
    assert [c["src"] for c in charts] == ["charts/churn-accuracy.svg", "charts/churn-auc.svg"]
    assert all(c["complete"] and c["width"] > 100 and c["height"] > 50 for c in charts), charts
    assert all(c["shown"] >= 600 for c in charts), charts  # legible: not shrunk to a thumbnail
    for shot in ("index.png", "churn.png"):
        assert (tmp_path / shot).stat().st_size > 10_000  # a real picture, not a blank page
