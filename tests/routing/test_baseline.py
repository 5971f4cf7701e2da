"""Baseline = production, as git says: every submitting path resolves the model that the spec's
`promotion.version` names on the default branch, never a PR candidate or an unpromoted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrain.backends.local import LocalBackend
from retrain.baseline import ProductionBaselines
from retrain.blobs import Blobs
from retrain.delivery.candidate import candidate_request, on_base_branch
from retrain.routing.index import SpecIndex
from retrain.runs import NO_BASELINE_URI, NO_PROMOTION, Baseline, LocalLayout, RunRequest
from retrain.spec import Spec, load_spec
from retrain.summary import dump_summary, summary_path
from tests.fakes.git import FakeGit
from tests.fakes.summaries import load
from tests.routing.helpers import SPECS, arrival, end_runs, make_service

PRODUCTION = "churn-3f2a9c1b7d4e-data-20261120t0500"
CANDIDATE = "churn-3f2a9c1b7d4e-pr-7-abc"


def churn(version: str | None) -> Spec:
    spec = load_spec(SPECS / "churn.yaml")
    promotion = spec.promotion.model_copy(update={"version": version})
    return spec.model_copy(update={"promotion": promotion})


def write_run(root: Path, run_id: str, spec: str = "churn", model: str = "") -> str:
    """A finished run's summary under `root`, as the pipeline leaves it; returns its model."""
    summary = load("churn_pass")
    model = model or str(root / "Trainer" / "model" / run_id)
    summary = summary.model_copy(
        update={
            "spec": spec,
            "run": summary.run.model_copy(update={"run_id": run_id}),
            "candidate": summary.candidate.model_copy(update={"uri": model}),
            "blessed": True,
        }
    )
    path = Path(summary_path(str(root), run_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_summary(summary))
    return model


def local(workdir: Path) -> ProductionBaselines:
    return ProductionBaselines(
        lambda name: str(LocalLayout(workdir=workdir, spec=name).pipeline_root), Blobs()
    )


def test_a_data_run_after_a_blessed_pr_candidate_is_judged_against_production(
    tmp_path: Path,
) -> None:
    root = LocalLayout(workdir=tmp_path, spec="churn").pipeline_root
    production_model = write_run(root, PRODUCTION)
    spec = churn(PRODUCTION)  # main names the promoted run
    baselines = local(tmp_path)

    # A PR candidate runs (against production) and is blessed: the newest blessed model now.
    pr = candidate_request(spec, "abc1234", 7, baselines(spec))
    assert pr.baseline == Baseline.found(PRODUCTION, production_model)
    candidate_model = write_run(root, pr.job_id)

    service, backend, _, _ = make_service(index=SpecIndex([spec]), baselines=baselines)
    backend.submit(pr)
    end_runs(service, backend)  # the candidate finished; nothing promotes it

    (decision,) = service.handle("data_arrival", arrival(600, "j1"))
    assert decision.decision == "run"
    request = backend.jobs[decision.job_id]
    assert request.baseline.uri == production_model != candidate_model
    assert request.parameters()["baseline_uri"] == production_model
    assert request.parameters()["baseline_version"] == PRODUCTION
    assert request.labels()["retrain-baseline"] == PRODUCTION


def test_no_promotion_is_no_baseline_and_says_why(tmp_path: Path) -> None:
    write_run(LocalLayout(workdir=tmp_path, spec="churn").pipeline_root, CANDIDATE)
    spec = churn(None)
    service, backend, _, _ = make_service(index=SpecIndex([spec]), baselines=local(tmp_path))
    (decision,) = service.handle("data_arrival", arrival(600, "j1"))
    parameters = backend.jobs[decision.job_id].parameters()
    assert parameters["baseline_uri"] == NO_BASELINE_URI
    assert parameters["baseline_version"] == ""
    assert parameters["baseline_reason"] == NO_PROMOTION


@pytest.mark.parametrize(
    ("version", "setup", "reason"),
    [
        (PRODUCTION, lambda root: None, "production's run summary cannot be read"),
        ("Not A Run", lambda root: None, "is not a run id"),
        (PRODUCTION, lambda root: write_run(root, PRODUCTION, spec="other"), "not production's"),
        (
            PRODUCTION,
            lambda root: write_run(root, PRODUCTION, model="/elsewhere/model"),
            "is not under",
        ),
    ],
)
def test_unreadable_production_is_no_baseline_with_the_reason(
    tmp_path: Path, version: str, setup: object, reason: str
) -> None:
    root = LocalLayout(workdir=tmp_path, spec="churn").pipeline_root
    setup(root)  # type: ignore[operator]
    baseline = local(tmp_path)(churn(version))
    assert baseline.uri == ""
    assert reason in baseline.reason
    request = RunRequest(
        job_id="churn-x", spec="churn", spec_version="v", trigger="manual", baseline=baseline
    )
    assert request.parameters()["baseline_uri"] == NO_BASELINE_URI


def test_a_pr_cannot_name_its_own_baseline(tmp_path: Path) -> None:
    """The PR's copy of the spec may set promotion.version; the base branch's copy decides."""
    root = LocalLayout(workdir=tmp_path, spec="churn").pipeline_root
    production_model = write_run(root, PRODUCTION)
    write_run(root, CANDIDATE)
    text = (SPECS / "churn.yaml").read_text()
    on_main = text.replace("alias: champion", f"alias: champion\n  version: {PRODUCTION}")
    git = FakeGit({("origin/main", "specs/churn.yaml"): on_main})
    resolve = on_base_branch(git, "origin/main", lambda s: f"specs/{s.name}.yaml", local(tmp_path))
    assert resolve(churn(CANDIDATE)) == Baseline.found(PRODUCTION, production_model)
    new = on_base_branch(
        FakeGit({}), "origin/main", lambda s: f"specs/{s.name}.yaml", local(tmp_path)
    )(churn(CANDIDATE))
    assert new.uri == "" and "a new spec" in new.reason


def test_the_local_backend_passes_the_baseline_to_the_run(tmp_path: Path) -> None:
    """What `retrain run` receives from a local submit: production's model, or its absence."""
    seen = tmp_path / "argv.json"
    command = [
        "python3",
        "-c",
        f"import json, sys; json.dump(sys.argv[1:], open({str(seen)!r}, 'w'))",
    ]

    class Quiet:
        def publish(self, topic: str, payload: dict[str, object], attributes: object) -> None:
            pass

    backend = LocalBackend(
        workdir=tmp_path,
        specs_dir=SPECS,
        project="p",
        region="r",
        completion_topic="t",
        publisher=Quiet(),
        command=command,
    )
    baseline = Baseline.found(PRODUCTION, "/runs/churn/Trainer/model/3")
    request = RunRequest(
        job_id="churn-y", spec="churn", spec_version="v", trigger="drift", baseline=baseline
    )
    assert backend.submit(request)
    backend.threads[0].join(30)
    argv = json.loads(seen.read_text())
    assert argv[argv.index("--baseline-uri") + 1] == "/runs/churn/Trainer/model/3"
    assert argv[argv.index("--baseline-version") + 1] == PRODUCTION
