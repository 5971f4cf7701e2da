"""`retrain data drop-column`: the local table loses the column, the entry says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from retrain.events.bigquery import decode_data_arrival
from retrain.events.types import TableSchemaChange
from tests.conftest import REPO


def test_drop_column_rewrites_the_table_and_prints_bigquerys_entry(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "data").mkdir()
    spec = tmp_path / "specs" / "house-prices.yaml"
    spec.write_text((REPO / "specs" / "house-prices.yaml").read_text())
    lines = (REPO / "data" / "house-prices.csv").read_text().splitlines()[:50]
    (tmp_path / "data" / "house-prices.csv").write_text("\n".join(lines) + "\n")

    def drop(column: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "retrain.cli.main", "data", "drop-column", str(spec), column,
             "--no-publish"],
            cwd=tmp_path,
            env={**os.environ, "RETRAIN_REPO_ROOT": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip

    done = drop("city")
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "data" / "house-prices.csv").read_text().splitlines()
    assert table[0] == "floor_area_sqm,bedrooms,age_years,distance_to_center_km,price_keur"
    assert len(table) == 50 and all(len(row.split(",")) == 5 for row in table)
    entry = json.loads(done.stdout[done.stdout.index("{") :])
    change = decode_data_arrival(entry)
    assert isinstance(change, TableSchemaChange)
    assert change.table == "acme-analytics.listings.sold_homes"
    assert [(c.name, c.type) for c in change.columns] == [
        ("floor_area_sqm", "FLOAT"),
        ("bedrooms", "INTEGER"),
        ("age_years", "INTEGER"),
        ("distance_to_center_km", "FLOAT"),
        ("price_keur", "FLOAT"),
    ]
    again = drop("city")
    assert again.returncode == 2 and "has no column 'city'" in again.stderr
