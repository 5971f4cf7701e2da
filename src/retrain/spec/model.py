"""The model spec: what a team declares in `specs/<name>.yaml`, validated strictly.

Every field here is part of the product's interface: the JSON Schema that editors use is
generated from these classes, and the pipeline factory and the event router read them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from retrain.metrics import METRICS, Task
from retrain.spec.cron import cron_problem, more_often_than_hourly

SPEC_NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
# project.dataset.table: BigQuery project ids, dataset ids and (plain) table ids.
TABLE_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_-]{1,1024}$"
DURATION_PATTERN = r"^[1-9][0-9]*(s|m|h|d)$"
MODULE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_LOCAL_PATH = 1024


class FieldProblem(ValueError):
    """A cross-field check that knows which key (relative to its model) is at fault."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


def _check_cron(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise ValueError(problem)
    return value


MAX_DURATION = timedelta(days=366)  # longer windows or staleness limits are typos


def _check_duration(value: str) -> str:
    if int(value[:-1]) * _UNITS[value[-1]] > MAX_DURATION.total_seconds():
        raise ValueError(f"{value} is longer than the largest duration allowed, 366d")
    return value


def _check_local_path(value: str) -> str:
    """Relative, inside the repository: local runs read it with the developer's rights."""
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "~")) or ":" in parts[0] or ".." in parts:
        raise ValueError(f"{value!r} must be a path inside the repository (no '..', not absolute)")
    return value


Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
Duration = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, max_length=12, examples=["30m", "6h", "1d"]),
    AfterValidator(_check_duration),
]
Cron = Annotated[str, Field(examples=["0 5 * * 1"]), AfterValidator(_check_cron)]


def duration_of(text: str) -> timedelta:
    """`6h` -> 6 hours. The pattern on `Duration` guarantees the shape."""
    return timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalData(_Strict):
    """Where local runs read the data: a CSV file relative to the repository root."""

    path: Annotated[str, AfterValidator(_check_local_path)] = Field(
        min_length=1,
        max_length=MAX_LOCAL_PATH,
        description="CSV file, relative to the repository root.",
    )


class DataConfig(_Strict):
    source: Literal["bigquery", "local"] = Field(
        description="Where cloud runs read: BigQuery, or the local file for both."
    )
    table: Annotated[str, Field(pattern=TABLE_PATTERN)] = Field(
        description="The watched BigQuery table, project.dataset.table. New rows here trigger runs."
    )
    query: str | None = Field(
        default=None,
        description="BigQuery SQL that selects the training rows; default: features and label.",
    )
    local: LocalData


MissingPolicy = Literal["mean", "zero", "bucket", "drop_row"]
# What a missing value becomes when the spec does not say: numbers take the training mean
# (plus a missing indicator), categories their own bucket.
DEFAULT_MISSING: dict[str, MissingPolicy] = {"numeric": "mean", "categorical": "bucket"}
_MISSING_FOR: dict[str, tuple[MissingPolicy, ...]] = {
    "numeric": ("mean", "zero", "drop_row"),
    "categorical": ("bucket", "drop_row"),
}


class Feature(_Strict):
    name: Identifier
    type: Literal["numeric", "categorical"]
    missing: MissingPolicy | None = Field(
        default=None,
        description="Missing values: numeric mean (default) | zero | drop_row; "
        "categorical bucket (default) | drop_row.",
    )

    @model_validator(mode="after")
    def _missing_fits_type(self) -> Feature:
        allowed = _MISSING_FOR[self.type]
        if self.missing is not None and self.missing not in allowed:
            raise FieldProblem(
                ("missing",),
                f"missing: {self.missing} does not apply to a {self.type} feature "
                f"(allowed: {', '.join(allowed)})",
            )
        return self

    @property
    def missing_policy(self) -> MissingPolicy:
        return self.missing or DEFAULT_MISSING[self.type]


class TrainerConfig(_Strict):
    module: Annotated[str, Field(pattern=MODULE_PATTERN)] = Field(
        description="Importable module with a TFX `run_fn`, e.g. pipelines.trainers.tabular."
    )
    hyperparameters: dict[Identifier, float | int | str | bool] = Field(default_factory=dict)
    train_steps: int = Field(gt=0, le=10_000_000)
    eval_steps: int = Field(default=50, gt=0, le=1_000_000)


class MetricThreshold(_Strict):
    """Absolute bounds on the candidate, and the largest allowed loss against the baseline."""

    name: Literal[
        "auc",
        "accuracy",
        "precision",
        "recall",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "rmse",
        "mae",
        "mse",
    ]
    min: float | None = None
    max: float | None = None
    max_regression: float | None = Field(
        default=None,
        ge=0,
        description="How much worse than the baseline the candidate may be, in metric units.",
    )

    @model_validator(mode="after")
    def _sane(self) -> MetricThreshold:
        low, high = METRICS[self.name].bounds
        for label, value in (("min", self.min), ("max", self.max)):
            if value is None:
                continue
            if value != value:  # NaN
                raise FieldProblem((label,), "must be a number, not NaN")
            if (low is not None and value < low) or (high is not None and value > high):
                raise FieldProblem(
                    (label,),
                    f"{label} {value} is outside the range of {self.name} "
                    f"[{low}, {'inf' if high is None else high}]",
                )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise FieldProblem(("min",), f"min {self.min} is greater than max {self.max}")
        return self


class EvaluationConfig(_Strict):
    metrics: list[MetricThreshold] = Field(min_length=1)
    slices: list[list[Identifier]] = Field(
        default_factory=list, description="Feature crosses to report per slice, e.g. [[country]]."
    )
    eval_fraction: float = Field(default=0.2, gt=0, lt=1)


class DataArrivalPolicy(_Strict):
    min_new_rows: int = Field(
        default=1, ge=1, le=10**12, description="Rows accumulated before a run."
    )
    debounce: Duration = Field(default="1h", description="At most one run per window.")
    max_concurrent_runs: int = Field(default=1, ge=1, le=100)
    when_busy: Literal["wait", "skip"] = Field(
        default="wait",
        description="At the concurrency limit: keep the rows for later (wait) or drop them (skip).",
    )


MONITOR_PATTERN = (
    r"^(projects/[^/]+/locations/[^/]+/)?"
    r"(modelDeploymentMonitoringJobs|modelMonitors)/[A-Za-z0-9_-]{1,128}$"
)


class DriftPolicy(_Strict):
    action: Literal["retrain", "notify", "ignore"] = "notify"
    monitors: list[Annotated[str, Field(pattern=MONITOR_PATTERN)]] = Field(
        default_factory=list,
        description="Vertex Model Monitoring watching this model (their anomalies name no "
        "model): modelDeploymentMonitoringJobs/ID (v1) or modelMonitors/ID (v2), optionally "
        "the full resource name.",
    )


class Triggers(_Strict):
    data_arrival: DataArrivalPolicy | None = None
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    schedule: Cron | None = None
    max_staleness: Duration | None = Field(
        default=None,
        description="Open a notice when no run has succeeded for this long, e.g. 30d.",
    )
    frequent_schedule: bool = Field(
        default=False,
        description="Allow a schedule that runs more often than hourly (each run costs).",
    )

    @model_validator(mode="after")
    def _affordable(self) -> Triggers:
        if self.schedule and not self.frequent_schedule and more_often_than_hourly(self.schedule):
            raise FieldProblem(
                ("schedule",),
                f"{self.schedule!r} runs more often than hourly; set "
                "triggers.frequent_schedule: true if that is intended",
            )
        return self


class Resources(_Strict):
    machine_type: Annotated[str, Field(pattern=r"^[a-z0-9-]{3,40}$")] = "n1-standard-4"


# Model Registry model ids (aiplatform_v1 `UploadModelRequest.model_id`): at most 63 characters
# of [a-z0-9_-], the first neither a digit nor a hyphen.
REGISTRY_MODEL_PATTERN = r"^[a-z_][a-z0-9_-]{0,62}$"


class Promotion(_Strict):
    registry_model: Annotated[
        str,
        Field(
            pattern=REGISTRY_MODEL_PATTERN,
            description="Model Registry model id: [a-z0-9_-], at most 63, not starting with a "
            "digit or hyphen.",
        ),
    ]
    alias: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")] = "champion"
    version: str | None = Field(
        default=None, description="The model version serving now; promotion PRs set it."
    )


# Fields that change neither a run's result nor its triggering. Editing them keeps the
# spec's version, so a redelivered event still finds its job id, and nothing recompiles:
# owner and description only describe the spec; promotion.alias and promotion.version say
# which model serves, which runs do not read (their baseline is the latest blessed model).
NOT_IDENTITY: dict[str, Any] = {
    "owner": True,
    "description": True,
    "promotion": {"alias": True, "version": True},
    # only say when to warn, or acknowledge a cost: they change no run
    "triggers": {"max_staleness": True, "frequent_schedule": True},
}


class Spec(_Strict):
    """A model spec. The file stem must equal `name`."""

    name: Annotated[str, Field(pattern=SPEC_NAME_PATTERN)]
    owner: str = Field(min_length=1, description="Who reviews runs, e.g. @team/ml.")
    description: str = ""
    task: Task
    data: DataConfig
    features: list[Feature] = Field(min_length=1)
    label: Identifier
    classes: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None,
        min_length=2,
        max_length=1000,
        description="multiclass_classification: the label's values in a fixed order (integer "
        "labels: 0, 1, ... as strings); the model's outputs and per-class figures follow it.",
    )
    transform: bool = Field(
        default=False, description="Run TFX Transform (z-score numbers, vocabularies)."
    )
    trainer: TrainerConfig
    evaluation: EvaluationConfig
    triggers: Triggers = Field(default_factory=Triggers)
    resources: Resources = Field(default_factory=Resources)
    promotion: Promotion

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        names = [f.name for f in self.features]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise FieldProblem(("features", index, "name"), f"feature {name!r} is listed twice")
        if self.label in names:
            raise FieldProblem(("label",), f"label {self.label!r} is also listed as a feature")
        self._check_classes()
        for i, cross in enumerate(self.evaluation.slices):
            for j, column in enumerate(cross):
                if column not in names:
                    raise FieldProblem(
                        ("evaluation", "slices", i, j),
                        f"slice column {column!r} is not a feature (features: {', '.join(names)})",
                    )
        seen: list[str] = []
        for i, metric in enumerate(self.evaluation.metrics):
            if self.task not in METRICS[metric.name].tasks:
                raise FieldProblem(
                    ("evaluation", "metrics", i, "name"),
                    f"metric {metric.name!r} does not apply to task {self.task!r}",
                )
            if metric.name in seen:
                raise FieldProblem(
                    ("evaluation", "metrics", i, "name"), f"metric {metric.name!r} is listed twice"
                )
            seen.append(metric.name)
        return self

    def _check_classes(self) -> None:
        if self.task == "multiclass_classification" and not self.classes:
            raise FieldProblem(
                ("classes",),
                "multiclass_classification needs classes: the label's values, e.g. "
                "[setosa, versicolor, virginica]",
            )
        if self.task != "multiclass_classification" and self.classes is not None:
            raise FieldProblem(("classes",), f"classes apply to multiclass only, not {self.task}")
        for index, value in enumerate(self.classes or []):
            if value in (self.classes or [])[:index]:
                raise FieldProblem(("classes", index), f"class {value!r} is listed twice")

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def identity(self) -> dict[str, Any]:
        """The fields that can change a run's result or what triggers it (all but
        `NOT_IDENTITY`): what the version and the compile hash are computed from."""
        data = self.model_dump(mode="json", exclude=NOT_IDENTITY)
        # Fields added after specs were in use count only when set, so an unchanged spec
        # keeps its version (and its job ids and compiled templates).
        if data["classes"] is None:
            del data["classes"]
        for feature in data["features"]:
            if feature["missing"] is None:
                del feature["missing"]
        return data

    def fingerprint(self) -> str:
        """Short hash of `identity()`: the spec's version in job ids, summaries and manifests."""
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def training_query(self) -> str:
        """The BigQuery SQL that selects the training rows."""
        if self.data.query:
            return self.data.query
        columns = ", ".join([*self.feature_names, self.label])
        return f"SELECT {columns} FROM `{self.data.table}`"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file, as checked in at specs/schema.json."""
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "retrain model spec"
    return schema
