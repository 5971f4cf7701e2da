"""The compiled template itself, executed task by task in the pipeline environment
(`retrain run --local --from-template`), against a LocalDagRunner run of the same spec on the
same pinned snapshot (that run is also the suite's check of churn with Transform): first
without a production model (the Importer gets `retrain:no-baseline`), then with one (the
Importer gets the model's URI)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrain.pipeline_env.local_run import run_local
from retrain.pipeline_env.template_run import (
    EXECUTOR_CLASS_FLAG,
    TemplateError,
    TemplateJob,
    run_in_pipeline_env,
    run_template,
)
from retrain.spec import load_spec
from retrain.summary import EvaluationSummary, read_summary
from tests.conftest import PIPELINE_ENV, REPO, fast_spec_copy
from tests.pipelines.test_template_dag import PARAMETERS, TEMPLATE

pytestmark = pytest.mark.tfx

SNAPSHOT = "2026-11-20T05:00:00Z"
# Both ways train the same rows with the same code; Keras' initial weights are not seeded,
# so the models differ a little: measured here, AUC 0.9310 vs 0.9333, accuracy 0.8983 vs 0.9009.
METRIC_TOLERANCE = 0.02


class ChurnRuns:
    def __init__(self, root: Path) -> None:
        self.spec_path = fast_spec_copy("churn", root / "specs")
        self.spec = load_spec(self.spec_path)
        self.local_work = root / "local"
        self.template_work = root / "template"

    def run(self, workdir: Path, run_id: str, from_template: bool, **values: str) -> Path:
        given = {"run_id": run_id, "trigger": "manual", "data_snapshot": SNAPSHOT, **values}
        return run_local(PIPELINE_ENV, self.spec, self.spec_path, workdir, given, from_template)


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChurnRuns]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)  # data paths in specs are relative to the repository
        yield ChurnRuns(tmp_path_factory.mktemp("churn"))


@pytest.fixture(scope="module")
def both_ways(churn: ChurnRuns) -> tuple[EvaluationSummary, EvaluationSummary]:
    local = read_summary(churn.run(churn.local_work, "churn-local-1", from_template=False))
    template = read_summary(churn.run(churn.template_work, "churn-tpl-1", from_template=True))
    return local, template


def _overall(summary: EvaluationSummary) -> dict[str, float]:
    return {
        row.metric: row.candidate
        for row in summary.metrics
        if not row.slice and row.candidate is not None
    }


@pytest.mark.timeout(1200)  # a LocalDagRunner run and a template run of churn (Transform)
def test_the_compiled_template_runs_like_local_dag_runner(
    both_ways: tuple[EvaluationSummary, EvaluationSummary],
) -> None:
    local, template = both_ways
    # LocalDagRunner on churn with Transform: real signal, every slice of both columns
    auc = local.overall("auc")
    assert auc is not None and auc.candidate is not None and auc.candidate > 0.75
    countries = {row.slice.get("country") for row in local.metrics if row.slice}
    assert {"US", "DE", "FR", "BR", "IN"} <= countries
    contracts = {row.slice.get("contract") for row in local.metrics if "contract" in row.slice}
    assert contracts == {"month-to-month", "one-year", "two-year"}
    # the template run of the same snapshot agrees with it
    assert template.run.run_id == "churn-tpl-1"
    assert (template.spec, template.spec_version) == (local.spec, local.spec_version)
    assert template.blessed == local.blessed
    assert template.example_counts == local.example_counts  # same rows, same split
    assert template.baseline is None and local.baseline is None
    local_metrics, template_metrics = _overall(local), _overall(template)
    assert set(template_metrics) == set(local_metrics)
    for name, value in local_metrics.items():
        assert abs(template_metrics[name] - value) <= METRIC_TOLERANCE, name
    slices = {tuple(sorted(row.slice.items())) for row in local.metrics}
    assert {tuple(sorted(row.slice.items())) for row in template.metrics} == slices
    assert template.lineage is not None and local.lineage is not None
    for field in ("data_snapshot", "data_window", "schema_file", "schema_blob", "baseline_note"):
        assert getattr(template.lineage, field) == getattr(local.lineage, field), field
    # the template's tasks write under the job's output directory, by run id
    assert "/churn-tpl-1/Trainer/model" in template.candidate.uri


@pytest.mark.timeout(900)
def test_a_promoted_model_reaches_the_evaluator_through_the_importer(
    churn: ChurnRuns,
    both_ways: tuple[EvaluationSummary, EvaluationSummary],
    capsys: pytest.CaptureFixture[str],
) -> None:
    local, _ = both_ways
    capsys.readouterr()
    promoted = read_summary(
        churn.run(
            churn.template_work,
            "churn-tpl-2",
            from_template=True,
            baseline_uri=local.candidate.uri,
            baseline_version="churn-local-1",
        )
    )
    progress = capsys.readouterr().out
    # Vertex's cache: only what the baseline changes runs again
    for task in ("BigQueryExampleGen", "Transform", "Trainer"):
        assert f"{task} done in reused from an earlier run" in progress, progress
    assert "Evaluator done in reused" not in progress
    assert promoted.baseline is not None
    assert promoted.lineage is not None and promoted.lineage.baseline_version == "churn-local-1"
    compared = [r for r in promoted.metrics if not r.slice and r.baseline is not None]
    assert compared, "the Evaluator compared the candidate with the imported model"


@pytest.mark.timeout(300)
def test_an_executor_class_that_does_not_import_fails_naming_the_task(tmp_path: Path) -> None:
    broken = copy.deepcopy(TEMPLATE)
    # the first task to run: its published executor, a custom class of ours, renamed
    args = broken["pipelineSpec"]["deploymentSpec"]["executors"]["BigQueryExampleGen_executor"][
        "container"
    ]["args"]
    args[args.index(EXECUTOR_CLASS_FLAG) + 1] = "pipelines.components.missing.Executor"
    # the checked-in template writes to a bucket: here, under tmp_path
    text = json.dumps(broken).replace("gs://retrain-artifacts", str(tmp_path / "bucket"))
    job = TemplateJob(
        output_dir=tmp_path / "out",
        examples_csv=REPO / "data" / "house-prices.csv",
        repo_root=REPO,
    )
    with pytest.raises(TemplateError) as caught:
        run_template(
            json.loads(text),
            PARAMETERS,
            job,
            run_in_pipeline_env(PIPELINE_ENV, tmp_path / "logs"),
            lambda _: None,
        )
    message = str(caught.value)
    assert message.startswith(
        "task BigQueryExampleGen (pipelines.components.missing.Executor) failed"
    )
    assert "pipelines.components.missing" in message.splitlines()[-1]
