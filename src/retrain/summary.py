"""The evaluation summary: the versioned JSON contract between the pipeline and the service.

The pipeline's last step writes it; Cloud Functions read it and never import TFX. Bump
SCHEMA_VERSION on any change a reader could misread, and keep readers of older versions.
See docs/evaluation-summary.md for the field-by-field description.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrain.errors import SummaryError
from retrain.metrics import METRICS
from retrain.spec.model import Spec

SCHEMA_VERSION: Literal[4] = 4
# Version 1 lacks `data` and `per_class`; version 2 lacks `lineage` and `baseline.version`
# (its baseline was TFX's latest blessed model); version 3 lacks the confidence intervals,
# `confidence`, `slices_gate`, `within_noise`, `confusion` and `changes`. Older files read
# with those empty: no interval, slices do not gate.
READABLE_VERSIONS = (1, 2, 3, 4)
SUMMARY_FILENAME = "evaluation_summary.json"


class _Contract(BaseModel):
    # Unknown keys are ignored so a newer writer does not break an older reader.
    model_config = ConfigDict(extra="ignore", frozen=True, ser_json_inf_nan="strings")


class RunInfo(_Contract):
    run_id: str = Field(description="Pipeline job id (Vertex) or local run id.")
    orchestrator: Literal["local", "vertex"]
    trigger: str = Field(description="pull_request, data_arrival, drift, schedule or manual.")
    git_sha: str = ""
    pr_number: int | None = None
    data_window: str = Field(
        default="",
        description="The rows the spec's data.window selected: start/end (RFC 3339); empty: "
        "every row of the snapshot. Before the window existed (older v3 summaries), a data "
        "arrival's debounce window.",
    )
    event_id: str = ""
    pipeline_root: str
    started_at: str = ""
    finished_at: str


class Interval(_Contract):
    """Version 4: a confidence interval at the summary's `confidence.level`."""

    low: float
    high: float


class SliceMetric(_Contract):
    """One metric on one slice. `slice` is empty for the whole eval set."""

    slice: dict[str, str] = Field(default_factory=dict)
    metric: str = Field(description="Spec metric name, e.g. auc or rmse.")
    candidate: float | None = None
    baseline: float | None = None
    example_count: int | None = None
    candidate_interval: Interval | None = Field(
        default=None, description="Version 4: the candidate's value's interval."
    )
    baseline_interval: Interval | None = Field(
        default=None, description="Version 4: the baseline's value's interval."
    )
    change_interval: Interval | None = Field(
        default=None,
        description="Version 4: the interval of candidate - baseline (TFMA's diff metric, "
        "bootstrapped on the same resamples for both models).",
    )


class Threshold(_Contract):
    metric: str
    higher_is_better: bool
    min: float | None = None
    max: float | None = None
    max_regression: float | None = None


class Anomaly(_Contract):
    feature: str
    kind: str = Field(description="TFDV anomaly type, e.g. SCHEMA_NEW_COLUMN.")
    severity: str = "ERROR"
    description: str = ""
    values: list[str] | None = Field(
        default=None,
        max_length=1000,
        description="ENUM_TYPE_UNEXPECTED_STRING_VALUES: the feature's string values in this "
        "split's statistics (TFDV's rank histogram, what its check compares with the schema's "
        "domain), as they are, unescaped; a schema change PR adds those the domain lacks. "
        "Absent (older pipelines): the values are read from the description. Optional and "
        "ignored by older readers, so the schema version stays.",
    )


class ClassMetric(_Contract):
    """A multiclass model's figure for one class on the whole eval set: reported, not gated."""

    class_name: str = Field(description="One of the spec's classes.")
    metric: str = Field(description="precision, recall or f1.")
    candidate: float | None = None
    baseline: float | None = None


class Confidence(_Contract):
    """Version 4: how the intervals were computed, so a rerun can reproduce them."""

    level: float = Field(description="e.g. 0.95: the spec's evaluation.confidence_level.")
    method: Literal["poisson_bootstrap"] = "poisson_bootstrap"
    samples: int = Field(description="Bootstrap resamples TFMA drew.")
    seed: int = Field(description="The bootstrap's seed, fixed per spec version.")


class ConfusionCell(_Contract):
    """Version 4, classification: how many eval rows of class `actual` were predicted as
    class `predicted`, by one model, on the whole eval set."""

    model: Literal["candidate", "baseline"]
    actual: str
    predicted: str
    count: float


class SpecChange(_Contract):
    """Version 4, pull request runs: one spec field the PR changed against its base branch."""

    field: str = Field(description="Dotted path, e.g. trainer.hyperparameters.hidden_units.")
    before: str = Field(default="", description="The base branch's value as JSON; empty: absent.")
    after: str = Field(default="", description="The PR's value as JSON; empty: removed.")


class DataFacts(_Contract):
    """What the run read and what it did with missing values."""

    rows_read: int | None = Field(
        default=None, description="Rows the training query selected; None when not counted."
    )
    rows_dropped: dict[str, int] = Field(
        default_factory=dict, description="Rows left out before training, by reason."
    )
    missing: dict[str, int] = Field(
        default_factory=dict,
        description="Missing values per feature in the rows trained and evaluated on "
        "(imputed or bucketed by the trainer); features with none are left out.",
    )


class ModelRef(_Contract):
    uri: str
    pushed_uri: str = ""
    version: str = Field(
        default="", description="Version 3, baseline: production's version (its run's job id)."
    )


class Lineage(_Contract):
    """Version 3: everything a verdict was built from, so it can be traced and reproduced."""

    spec_commit: str = Field(default="", description="Git commit of the spec and code run.")
    trigger: str = ""
    event_id: str = ""
    data_snapshot: str = Field(
        default="", description="RFC 3339 time the data was read as of (fixed at decision)."
    )
    data_window: str = Field(default="", description="As run.data_window: the rows read.")
    data_rows: int | None = Field(default=None, description="Rows the snapshot held (local).")
    data_hash: str = Field(default="", description="sha256 of the rows read (local runs).")
    schema_file: str = Field(default="", description="specs/<name>.schema.pbtxt when present.")
    schema_blob: str = Field(default="", description="Its git blob sha; empty when absent.")
    baseline_version: str = Field(default="", description="Production's job id, or empty.")
    baseline_note: str = Field(default="", description="Why there is no baseline.")
    candidate_uri: str = ""


class Training(_Contract):
    """Version 4: how much of its training split the Trainer saw."""

    train_rows: int = Field(description="Rows of the train split.")
    train_steps: int | None = Field(default=None, description="The spec's fixed steps, if set.")
    epochs: int | None = Field(default=None, description="The spec's passes over every row.")
    batch_size: int | None = Field(default=None, description="Null when the module declares none.")
    coverage: float | None = Field(
        default=None,
        description="With train_steps: steps x batch_size over train_rows (1.0 or more: every "
        "row at least once); null with epochs (every row) or without a batch size.",
    )
    warning: str = Field(default="", description="Set when coverage is under a tenth.")


class EvaluationSummary(_Contract):
    schema_version: Literal[1, 2, 3, 4] = SCHEMA_VERSION
    spec: str
    spec_version: str = Field(description="Spec fingerprint the run was built from.")
    owner: str = Field(default="", description="The spec's owner, e.g. @team/ml.")
    description: str = Field(default="", description="The spec's description.")
    task: str
    run: RunInfo
    blessed: bool = Field(description="TFX Evaluator's verdict (ModelBlessing).")
    validation_failures: list[str] = Field(
        default_factory=list, description="TFMA's reasons when not blessed."
    )
    candidate: ModelRef
    baseline: ModelRef | None = Field(
        default=None, description="Production's model (v3); null when there is none."
    )
    metrics: list[SliceMetric]
    thresholds: list[Threshold]
    anomalies: list[Anomaly] = Field(default_factory=list)
    example_counts: dict[str, int] = Field(
        default_factory=dict, description="Rows per split, e.g. {'train': 3200, 'eval': 800}."
    )
    data: DataFacts | None = Field(default=None, description="Version 2: rows and missing values.")
    per_class: list[ClassMetric] = Field(
        default_factory=list, description="Version 2, multiclass only: figures per class."
    )
    lineage: Lineage | None = Field(default=None, description="Version 3: what the run used.")
    confidence: Confidence | None = Field(
        default=None, description="Version 4: the intervals' level and bootstrap; null: none."
    )
    slices_gate: bool = Field(
        default=False, description="Version 4: the spec's evaluation.slices_gate."
    )
    within_noise: Literal["hold", "promote"] = Field(
        default="hold", description="Version 4: the spec's evaluation.within_noise."
    )
    confusion: list[ConfusionCell] = Field(
        default_factory=list, description="Version 4, classification: the confusion matrix."
    )
    changes: list[SpecChange] = Field(
        default_factory=list,
        description="Version 4, pull request runs: spec fields that differ from the base branch.",
    )
    training: Training | None = Field(
        default=None, description="Version 4: the training split's rows and how much was seen."
    )

    def overall(self, metric: str) -> SliceMetric | None:
        return next((m for m in self.metrics if m.metric == metric and not m.slice), None)


def thresholds_from_spec(spec: Spec) -> list[Threshold]:
    """The spec's thresholds in the summary's shape, directions from retrain.metrics."""
    return [
        Threshold(
            metric=m.name,
            higher_is_better=METRICS[m.name].higher_is_better,
            min=m.min,
            max=m.max,
            max_regression=m.max_regression,
        )
        for m in spec.evaluation.metrics
    ]


def summary_path(pipeline_root: str, run_id: str) -> str:
    """Where a run's summary lives: a path both the pipeline and the service can compute."""
    return f"{pipeline_root.rstrip('/')}/summaries/{run_id}/{SUMMARY_FILENAME}"


def parse_summary(text: str | bytes, source: str) -> EvaluationSummary:
    """Parse a summary, naming `source` in the error when it is not valid."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SummaryError(f"{source}: not JSON: {exc}") from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise SummaryError(f"{source}: holds a number too large to read: {exc}") from exc
    except RecursionError as exc:
        raise SummaryError(f"{source}: JSON nested too deeply to read") from exc
    if not isinstance(raw, dict):
        raise SummaryError(f"{source}: expected a JSON object")
    version = raw.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise SummaryError(
            f"{source}: schema_version {version!r} is not supported "
            f"(this reader knows {', '.join(map(str, READABLE_VERSIONS))})"
        )
    try:
        return EvaluationSummary.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SummaryError(f"{source}: {where}: {first['msg']}") from exc


def read_summary(path: str | Path) -> EvaluationSummary:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise SummaryError(f"{path}: cannot read: {exc}") from exc
    return parse_summary(text, str(path))


def dump_summary(summary: EvaluationSummary) -> str:
    return summary.model_dump_json(indent=2) + "\n"
