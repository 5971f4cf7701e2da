"""Deterministic example data for the example specs: no downloads, same bytes every time.

The generators encode real structure (churn rises with support calls and month-to-month
contracts; price rises with size and falls with age) and slices that differ, so a model has
something to learn and per-slice metrics disagree. `drift` shifts the distributions, so a
later append can look like new data rather than more of the same.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from retrain.errors import RetrainError
from retrain.spec.load import spec_files

Row = dict[str, str | int | float]


def churn_rows(count: int, seed: int, drift: float = 0.0) -> Iterator[Row]:
    rng = random.Random(seed)
    countries = ["US", "DE", "FR", "BR", "IN"]
    country_bias = {"US": -0.3, "DE": -0.6, "FR": 0.0, "BR": 0.5, "IN": 0.8}
    contracts = ["month-to-month", "one-year", "two-year"]
    for _ in range(count):
        country = rng.choices(countries, weights=[35, 20, 15, 15, 15])[0]
        contract = rng.choices(contracts, weights=[50, 30, 20])[0]
        tenure = rng.randint(1, 72)
        charges = round(rng.uniform(20, 120) * (1 + drift), 2)
        calls = min(12, int(rng.expovariate(0.6 - 0.2 * drift)))
        score = (
            -1.2
            + 0.45 * calls
            - 0.035 * tenure
            + 0.012 * (charges - 70)
            + {"month-to-month": 1.0, "one-year": -0.3, "two-year": -1.4}[contract]
            + country_bias[country]
            + rng.gauss(0, 0.8)
        )
        yield {
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "contract": contract,
            "country": country,
            "churned": int(1 / (1 + math.exp(-score)) > 0.5),
        }


def house_price_rows(count: int, seed: int, drift: float = 0.0) -> Iterator[Row]:
    rng = random.Random(seed)
    cities = {"lisbon": 3.1, "porto": 2.4, "braga": 1.6, "faro": 2.8}
    for _ in range(count):
        city = rng.choices(list(cities), weights=[40, 30, 15, 15])[0]
        sqm = round(rng.uniform(35, 220) * (1 + drift), 1)
        bedrooms = max(0, min(6, int(sqm / 35) + rng.randint(-1, 1)))
        age = rng.randint(0, 90)
        distance = round(rng.uniform(0.2, 25.0), 2)
        price = (
            cities[city] * sqm
            + 12 * bedrooms
            - 0.9 * age
            - 4.0 * distance
            + rng.gauss(0, 25 if city == "faro" else 12)
        )
        yield {
            "floor_area_sqm": sqm,
            "bedrooms": bedrooms,
            "age_years": age,
            "distance_to_center_km": distance,
            "city": city,
            "price_keur": round(max(price, 30.0), 1),
        }


GENERATORS: dict[str, Callable[[int, int, float], Iterator[Row]]] = {
    "churn": churn_rows,
    "house-prices": house_price_rows,
}
DEFAULT_ROWS = {"churn": 4000, "house-prices": 3000}


def example_spec_files(specs_dir: Path) -> list[Path]:
    """The example specs in `specs_dir` (those with a generator), in the generators' order.

    The demo plays these alone, on its own copies, so a user's spec beside them (valid or not,
    with its data or without) never changes it. A missing one is an error naming the file."""
    found = {p.stem: p for p in spec_files(specs_dir)}
    missing = [name for name in GENERATORS if name not in found]
    if missing:
        raise RetrainError(
            f"the demo plays the example specs {', '.join(GENERATORS)}, but "
            + ", ".join(f"{specs_dir}/{name}.yaml" for name in missing)
            + " is missing; restore it from git (e.g. `git checkout main -- "
            + " ".join(f"specs/{n}.yaml specs/{n}.schema.pbtxt" for n in missing)
            + "`)"
        )
    return [found[name] for name in GENERATORS]


def write_csv(path: Path, rows: Iterator[Row], append: bool = False) -> int:
    """Write rows to `path` (header only when creating); return how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    first = next(rows, None)
    if first is None:
        return 0
    exists = append and path.exists() and path.stat().st_size > 0
    written = 0
    with path.open("a" if exists else "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(first))
        if not exists:
            writer.writeheader()
        for row in (first, *rows):
            writer.writerow(row)
            written += 1
    return written
