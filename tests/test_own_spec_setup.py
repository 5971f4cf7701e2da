"""A user's own spec beside the examples never breaks `make setup`'s data step, and the example
data it finds is kept: the step is read from the Makefile and run in a copy of the repository
whose specs/ holds a spec on scikit-learn's wine data (a CSV the test writes)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from retrain.data.samples import example_spec_files
from retrain.demo.story import DemoOptions, Story
from retrain.errors import RetrainError
from tests.conftest import PIPELINE_ENV, REPO

WINE_FEATURES = ("alcohol", "malic_acid", "color_intensity", "proline")
WINE_SPEC = f"""\
name: wine
owner: "@me"
task: multiclass_classification
data:
  source: bigquery
  table: my-project.cellar.wine
  local: {{path: data/wine.csv}}
features:
{"".join(f"  - {{name: {f}, type: numeric}}" + chr(10) for f in WINE_FEATURES)}\
label: cultivar
classes: [class_0, class_1, class_2]
transform: false
trainer:
  module: pipelines.trainers.tabular
  train_steps: 60
evaluation:
  metrics:
    - {{name: accuracy, min: 0.5}}
promotion: {{registry_model: wine}}
"""
# Writes the wine CSV from scikit-learn (installed in the pipeline environment only).
WINE_CSV = f"""
import csv, sys
from sklearn.datasets import load_wine
wine = load_wine()
names = list(wine.feature_names)
cols = {list(WINE_FEATURES)!r}
out = csv.writer(sys.stdout)
out.writerow([*cols, "cultivar"])
for row, target in zip(wine.data, wine.target):
    out.writerow([*(row[names.index(c)] for c in cols), wine.target_names[target]])
"""


WINE_DATA = REPO / "tests" / "golden" / "datasets" / "wine.csv"


@pytest.mark.tfx
def test_the_wine_file_is_scikit_learns() -> None:
    done = subprocess.run(
        [str(PIPELINE_ENV.python), "-c", WINE_CSV], capture_output=True, text=True, check=True
    )
    assert done.stdout == WINE_DATA.read_text()


def wine_schema() -> str:
    """The schema `retrain schema infer` writes for this spec (all present, numbers FLOAT)."""
    entries = [(name, "FLOAT") for name in WINE_FEATURES] + [("cultivar", "BYTES")]
    return "".join(
        f'feature {{\n  name: "{name}"\n  type: {kind}\n'
        "  presence {\n    min_fraction: 1.0\n    min_count: 1\n  }\n}\n"
        for name, kind in entries
    )


def write_wine(repo: Path) -> None:
    """specs/wine.yaml, its schema, and data/wine.csv: scikit-learn's copy of the data, kept
    as tests/golden/datasets/wine.csv so the tests without TFX need no pipeline environment
    (`test_the_wine_file_is_scikit_learns` checks it against scikit-learn)."""
    (repo / "specs" / "wine.yaml").write_text(WINE_SPEC)
    (repo / "specs" / "wine.schema.pbtxt").write_text(wine_schema())
    (repo / "data").mkdir(exist_ok=True)
    (repo / "data" / "wine.csv").write_text(WINE_DATA.read_text())


def makefile_data_step() -> list[str]:
    """The recipe line of `make setup`'s data step, as the Makefile writes it."""
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^data/\.generated:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no data/.generated step"
    return recipe.group(1).replace("$(VENV)", str(REPO / ".venv")).split()


def retrain(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "retrain"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    """A copy of the repository's specs/ with the user's wine spec, and a churn.csv of the
    user's own that the data step must keep."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "specs", repo / "specs")
    write_wine(repo)
    (repo / "data" / "churn.csv").write_text((REPO / "data" / "churn.csv").read_text()[:20000])
    return repo


def test_the_data_step_skips_a_user_spec_and_keeps_existing_data(user_repo: Path) -> None:
    kept = (user_repo / "data" / "churn.csv").read_bytes()
    wine = (user_repo / "data" / "wine.csv").read_bytes()
    done = subprocess.run(
        makefile_data_step(), cwd=user_repo, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "kept      data/churn.csv (exists; --force rewrites it)" in lines
    assert any(line.startswith("generated data/house-prices.csv (") for line in lines)
    assert "skipped   wine: not an example spec; its data (data/wine.csv, present) is yours" in (
        lines
    )
    assert (user_repo / "data" / "churn.csv").read_bytes() == kept, "example data overwritten"
    assert (user_repo / "data" / "wine.csv").read_bytes() == wine

    valid = retrain(user_repo, "validate", "specs")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert re.search(r"^ok  wine +multiclass_classification", valid.stdout, re.MULTILINE)
    with_data = retrain(user_repo, "validate", "--data", "specs/wine.yaml")
    assert with_data.returncode == 0, with_data.stdout + with_data.stderr
    assert "ok  wine                     data: 178 usable of 178 rows" in with_data.stdout


def test_a_user_spec_without_data_or_an_invalid_one_does_not_stop_the_step(
    user_repo: Path,
) -> None:
    (user_repo / "data" / "wine.csv").unlink()
    (user_repo / "specs" / "draft.yaml").write_text("name: draft\ntask: regresion\n")
    done = subprocess.run(
        makefile_data_step(), cwd=user_repo, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped   wine: not an example spec; its data (data/wine.csv, missing) is yours" in (
        done.stdout
    )
    assert (
        "skipped   specs/draft.yaml: not a valid spec (`retrain validate specs/draft.yaml` says "
        "why)" in done.stdout
    )


def test_the_demo_plays_only_the_example_specs(user_repo: Path, tmp_path: Path) -> None:
    (user_repo / "data" / "wine.csv").unlink()  # its data missing: not the demo's concern
    assert [p.name for p in example_spec_files(user_repo / "specs")] == [
        "churn.yaml",
        "house-prices.yaml",
    ]
    story = Story(
        DemoOptions(repo=user_repo, workdir=tmp_path / "demo", pipelines_python=Path("unused")),
        io.StringIO(),
    )
    story.prepare_sandbox()
    assert sorted(p.name for p in (story.sandbox / "specs").iterdir()) == [
        "churn.schema.pbtxt",
        "churn.yaml",
        "house-prices.schema.pbtxt",
        "house-prices.yaml",
    ]
    (user_repo / "specs" / "churn.yaml").rename(user_repo / "specs" / "my-churn.yaml")
    with pytest.raises(RetrainError, match=r"specs/churn\.yaml is missing; restore it from git"):
        example_spec_files(user_repo / "specs")
