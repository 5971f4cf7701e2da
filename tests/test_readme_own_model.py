"""The README's "Your own model" commands, read from the README and run in the order written,
in a fresh repository holding only a CSV of scikit-learn's wine data: the guide cannot drift
from what the commands do. (`git push` has no remote here and is the one line skipped.)"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from retrain.spec import load_spec
from tests.conftest import PIPELINE_ENV, REPO
from tests.test_own_spec_setup import makefile_data_step

pytestmark = pytest.mark.tfx

WINE_CSV = """
import sys
from sklearn.datasets import load_wine
wine = load_wine(as_frame=True)
frame = wine.frame.rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})
frame["target"] = [wine.target_names[t] for t in wine.target]
frame.rename(columns={"target": "cultivar"}).to_csv(sys.stdout, index=False)
"""


def guide_commands() -> list[str]:
    """The command lines of the first bash block under `## Your own model`, comments off."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Your own model\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the README's Your own model section has no bash block"
    lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def test_the_guide_reads_init_validate_run_status_then_a_pull_request() -> None:
    firsts = [" ".join(c.split()[:2]) for c in guide_commands()]
    assert firsts[:4] == ["retrain init", "retrain validate", "retrain run", "retrain status"]
    assert firsts[-1] == "git push"


@pytest.mark.timeout(600)  # three TFX processes: schema inference, a run and a try
def test_the_readme_guide_runs_as_written(tmp_path: Path) -> None:
    repo = tmp_path / "own"
    (repo / "data").mkdir(parents=True)
    wine = subprocess.run(
        [str(PIPELINE_ENV.python), "-c", WINE_CSV], capture_output=True, text=True, check=True
    )
    (repo / "data" / "wine.csv").write_text(wine.stdout)
    env = {
        **os.environ,
        "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
        "RETRAIN_REPO_ROOT": str(repo),
        "RETRAIN_PIPELINES_PYTHON": str(PIPELINE_ENV.python),
        "GIT_AUTHOR_NAME": "Own Model",
        "GIT_AUTHOR_EMAIL": "own@example.com",
        "GIT_COMMITTER_NAME": "Own Model",
        "GIT_COMMITTER_EMAIL": "own@example.com",
    }
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "start"],
        env=env,
        check=True,
    )
    outputs: dict[str, str] = {}
    for command in guide_commands():
        if command.startswith("git push"):
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        outputs[" ".join(command.split()[:2])] = done.stdout

    spec = load_spec(repo / "specs" / "wine.yaml")
    assert spec.task == "multiclass_classification"
    assert spec.classes == ["class_0", "class_1", "class_2"]
    assert spec.data.local.path == "data/wine.csv"
    assert (repo / "specs" / "wine.schema.pbtxt").is_file()
    assert "ok        data: 178 usable of 178 rows" in outputs["retrain init"]
    assert ": BLESSED" in outputs["retrain run"]
    assert "runs        1 known; newest first:" in outputs["retrain status"]
    # the comment a pull request would get: a new spec, so no baseline on main yet
    assert "### 🆕 No baseline yet: `wine` candidate" in outputs["retrain try"]
    assert (repo / "work" / "try" / "wine.md").read_text() in outputs["retrain try"]
    # what else a user meets next: make setup's data step, the run's lineage, the inventory
    setup = subprocess.run(makefile_data_step(), cwd=repo, env=env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "skipped   wine: not an example spec; its data (data/wine.csv, present) is yours" in (
        setup.stdout
    )
    job = re.search(r"recorded as job (\S+) in", outputs["retrain run"])
    assert job, outputs["retrain run"]
    lineage = subprocess.run(
        ["retrain", "lineage", job.group(1)], cwd=repo, env=env, capture_output=True, text=True
    )
    assert lineage.returncode == 0 and job.group(1) in lineage.stdout, lineage.stderr
    site = subprocess.run(
        ["retrain", "inventory", "--out", "site"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert site.returncode == 0, site.stderr
    pages = "".join(p.read_text() for p in (repo / "site").rglob("*.html"))
    # the local run in the model's runs (the try, newer, is the index's "last run")
    assert f"<td>{job.group(1)}</td><td>manual</td><td>succeeded</td>" in pages
    committed = subprocess.run(
        ["git", "-C", str(repo), "show", "--name-only", "--format=%s", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "specs/wine.yaml" in committed and "specs/wine.schema.pbtxt" in committed
