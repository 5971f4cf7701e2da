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
from retrain.spec.machines import (
    AcceleratorType,
    dataflow_machine_problem,
    training_machine_problem,
)

SPEC_NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"
# A spec's name is a directory beside the service's own: production runs write under
# <pipeline root>/<spec> (where `candidates/` holds PR runs, `tmp/` and `staging/` Beam's files),
# local runs under <work dir>/<spec> (beside `logs/`, `runs/`, `repo/`, `codehost/`, `demo/`).
# A spec named like one of them would share it: `candidates` made production's root the
# candidates' root.
RESERVED_SPEC_NAMES = frozenset(
    {"candidates", "tmp", "staging", "history", "summaries", "serving", "templates", "releases",
     "logs", "runs", "repo", "codehost", "demo"}
)  # fmt: skip
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
# project.dataset.table: BigQuery project ids, dataset ids and (plain) table ids.
TABLE_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_-]{1,1024}$"
DURATION_PATTERN = r"^[1-9][0-9]*(s|m|h|d)$"
MODULE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_LOCAL_PATH = 1024


SPLIT_BUCKETS = 20  # ExampleGen hashes each row into one of these; eval_fraction picks a share


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
    # allow_inf_nan=False: NaN compares false with every bound, so `.nan` would pass them all.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


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
    window: Duration | None = Field(
        default=None,
        description="Train only on rows whose time_column is in (snapshot - window, snapshot], "
        "e.g. 90d; default: every row of the snapshot.",
    )
    time_column: Identifier | None = Field(
        default=None,
        description="The TIMESTAMP column that data.window filters on; a custom data.query "
        "must select it.",
    )

    @model_validator(mode="after")
    def _window_has_column(self) -> DataConfig:
        if self.window is not None and self.time_column is None:
            raise FieldProblem(
                ("window",), "data.window needs data.time_column: the column it filters on"
            )
        return self


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
    train_steps: int | None = Field(
        default=None,
        gt=0,
        le=10_000_000,
        description="Train for this many batches (of the trainer's batch_size), then stop; "
        "set this or epochs.",
    )
    epochs: int | None = Field(
        default=None,
        gt=0,
        le=1_000,
        description="Train for this many passes over every training row; set this or train_steps.",
    )
    eval_steps: int = Field(default=50, gt=0, le=1_000_000)

    @model_validator(mode="after")
    def _one_length(self) -> TrainerConfig:
        """How long to train is said once: in batches or in passes over the data."""
        if (self.train_steps is None) == (self.epochs is None):
            both = self.train_steps is not None
            raise FieldProblem(
                ("epochs",) if both else (),
                (
                    "both train_steps and epochs are set; keep one: "
                    if both
                    else "say how long to train: set "
                )
                + "train_steps (a fixed number of batches) or epochs (passes over every "
                "training row; what a large table needs)",
            )
        return self


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
    confidence_level: float | None = Field(
        default=0.95,
        ge=0.5,
        le=0.999,
        description="Level of the confidence intervals TFMA's bootstrap puts around every "
        "metric and every change against production, e.g. 0.95; null: no intervals (the "
        "bootstrap multiplies the Evaluator's time, docs/evaluation-summary.md).",
    )
    within_noise: Literal["hold", "promote"] = Field(
        default="hold",
        description="A production run whose change against production is within noise (its "
        "interval covers no change): hold (not promoted, the comment says why) or promote.",
    )
    slices_gate: bool = Field(
        default=False,
        description="Whether a slice that fails a threshold fails the verdict (TFX then gates "
        "every slice too); off: slices inform, only the whole eval set gates.",
    )

    @property
    def split_buckets(self) -> tuple[int, int]:
        """(train, eval) shares of the SPLIT_BUCKETS hash buckets ExampleGen splits rows by."""
        evaluation = max(1, round(self.eval_fraction * SPLIT_BUCKETS))
        return SPLIT_BUCKETS - evaluation, evaluation


# Evaluation fields added after specs were in use: they count in a spec's identity only when
# set to something other than their default, so an unchanged spec keeps its version.
EVALUATION_DEFAULTS: dict[str, Any] = {"confidence_level": 0.95, "slices_gate": False}


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
    max_run_time: Duration = Field(
        default="24h",
        description="Open a notice when a run started by data arrival is still going after "
        "this long (it holds its rows until it ends).",
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


MachineType = Annotated[str, Field(pattern=r"^[a-z0-9-]{3,40}$", examples=["n1-standard-4"])]


class DataProcessing(_Strict):
    """Where the Beam components (ExampleGen, StatisticsGen, Transform, Evaluator) run on Vertex."""

    runner: Literal["direct", "dataflow"] = Field(
        default="direct",
        description="direct: inside the pipeline step's container; dataflow: Dataflow workers.",
    )
    machine_type: MachineType | None = Field(
        default=None, description="Dataflow worker machine; default: Dataflow's."
    )
    # Dataflow's quotas page: at most 1,000 worker VMs per job.
    max_workers: int | None = Field(default=None, ge=1, le=1000)
    # Dataflow's pipeline options page: a worker disk needs at least 30 GB (boot image, logs);
    # a Compute Engine persistent disk holds at most 64 TB.
    disk_size_gb: int | None = Field(default=None, ge=30, le=65536)

    @model_validator(mode="after")
    def _fits_runner(self) -> DataProcessing:
        if self.runner == "direct":
            for name in ("machine_type", "max_workers", "disk_size_gb"):
                if getattr(self, name) is not None:
                    raise FieldProblem(
                        (name,), f"{name} applies to runner: dataflow only (runner is direct)"
                    )
        if self.machine_type is not None:
            problem = dataflow_machine_problem(self.machine_type)
            if problem:
                raise FieldProblem(("machine_type",), problem)
        return self


class Accelerator(_Strict):
    type: AcceleratorType = Field(description="Vertex AI AcceleratorType, e.g. NVIDIA_TESLA_T4.")
    count: int = Field(ge=1, le=16)


class Training(_Strict):
    """The Trainer as a Vertex AI custom job on this machine (cloud runs only)."""

    machine_type: MachineType
    accelerator: Accelerator | None = None

    @model_validator(mode="after")
    def _fits(self) -> Training:
        accelerator = self.accelerator
        problem = training_machine_problem(
            self.machine_type,
            accelerator.type if accelerator else None,
            accelerator.count if accelerator else None,
        )
        if problem:
            raise FieldProblem(*problem)
        return self


# Vertex AI Pipelines' "Specify the machine configuration for a pipeline step": CPU as a number
# or millicores ("500m"), at most 96; memory as a number with K, M or G, at most 624 GB.
CPU_PATTERN = r"^[0-9]+(\.[0-9]+)?m?$"
MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?[KMG]$"
MAX_STEP_CPU = 96
MAX_STEP_MEMORY_GB = 624
_MEMORY_UNITS = {"K": 1e-6, "M": 1e-3, "G": 1.0}


class StepResources(_Strict):
    """CPU and memory limits of each pipeline step's container on Vertex."""

    cpu: Annotated[str, Field(pattern=CPU_PATTERN, examples=["4", "500m"])] | int = Field(
        description="vCPUs, or millicores like 500m; at most 96."
    )
    memory: Annotated[str, Field(pattern=MEMORY_PATTERN, examples=["16G", "512M"])] = Field(
        description="With its unit, K, M or G; at most 624G."
    )

    @property
    def cpu_limit(self) -> float:
        text = str(self.cpu)
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)

    @property
    def memory_limit_gb(self) -> float:
        return float(self.memory[:-1]) * _MEMORY_UNITS[self.memory[-1]]

    @model_validator(mode="after")
    def _in_range(self) -> StepResources:
        if not 0 < self.cpu_limit <= MAX_STEP_CPU:
            raise FieldProblem(("cpu",), f"cpu {self.cpu} is outside (0, {MAX_STEP_CPU}]")
        if not 0 < self.memory_limit_gb <= MAX_STEP_MEMORY_GB:
            raise FieldProblem(
                ("memory",), f"memory {self.memory} is outside (0, {MAX_STEP_MEMORY_GB}G]"
            )
        return self


class Resources(_Strict):
    """How a cloud run is executed; local runs ignore it (one machine, DirectRunner)."""

    data_processing: DataProcessing = Field(default_factory=DataProcessing)
    training: Training | None = Field(
        default=None, description="Run the Trainer as a Vertex AI custom job on this machine."
    )
    step: StepResources | None = Field(
        default=None, description="CPU and memory of every pipeline step's container."
    )

    @model_validator(mode="before")
    @classmethod
    def _replaced_field(cls, data: Any) -> Any:
        if isinstance(data, dict) and "machine_type" in data:
            raise FieldProblem(
                ("machine_type",),
                "resources.machine_type was replaced: the Trainer's machine is "
                "resources.training.machine_type, Dataflow workers' is "
                "resources.data_processing.machine_type (runner: dataflow)",
            )
        return data


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
# which model serves: a run's baseline, resolved when it is submitted, not part of what it is.
NOT_IDENTITY: dict[str, Any] = {
    "owner": True,
    "description": True,
    "promotion": {"alias": True, "version": True},
    # how a result within noise is treated for promotion: decided after the run, not part of it
    "evaluation": {"within_noise": True},
    # only say when to warn, or acknowledge a cost: they change no run
    "triggers": {"max_staleness": True, "max_run_time": True, "frequent_schedule": True},
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
        if self.name in RESERVED_SPEC_NAMES:
            raise FieldProblem(
                ("name",),
                f"{self.name!r} is reserved: the service keeps its own files in a directory of"
                f" that name beside the specs' ({', '.join(sorted(RESERVED_SPEC_NAMES))})",
            )
        names = [f.name for f in self.features]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise FieldProblem(("features", index, "name"), f"feature {name!r} is listed twice")
        if self.label in names:
            raise FieldProblem(("label",), f"label {self.label!r} is also listed as a feature")
        if self.data.time_column is not None and self.data.time_column == self.label:
            raise FieldProblem(("data", "time_column"), f"time_column {self.label!r} is the label")
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
        for key in ("window", "time_column"):
            if data["data"][key] is None:
                del data["data"][key]
        for key in ("train_steps", "epochs"):  # exactly one is set
            if data["trainer"][key] is None:
                del data["trainer"][key]
        for feature in data["features"]:
            if feature["missing"] is None:
                del feature["missing"]
        for key, default in EVALUATION_DEFAULTS.items():
            if data["evaluation"][key] == default:
                del data["evaluation"][key]
        # Resources change how a cloud run executes, and so its compiled template: they count.
        data["resources"] = self.resources.model_dump(mode="json", exclude_none=True)
        return data

    def fingerprint(self) -> str:
        """Short hash of `identity()`: the spec's version in job ids, summaries and manifests."""
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def training_query(self) -> str:
        """The BigQuery SQL that selects the training rows, before any data.window
        (`retrain.spec.sql.windowed_query` applies it): with a window, the default query
        selects the time column too."""
        if self.data.query:
            return self.data.query
        names = [*self.feature_names, self.label]
        time_column = self.data.time_column
        if self.data.window and time_column and time_column not in names:
            names.append(time_column)
        return f"SELECT {', '.join(names)} FROM `{self.data.table}`"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file, as checked in at specs/schema.json."""
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "retrain model spec"
    return schema
