"""One factory: a spec in, a TFX pipeline out, for either runner.

The same components run locally (LocalDagRunner, SQLite ML Metadata, CSV input) and compile
for Vertex (KubeflowV2DagRunner, BigQuery input). Per-run values (run id, trigger, git sha,
PR, event, data window) are RuntimeParameters when compiling and plain values locally.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.proto import example_gen_pb2

from pipelines import cloud_args
from pipelines.components.bigquery import SnapshotBigQueryExampleGen
from pipelines.components.evaluator import ProductionEvaluator
from pipelines.components.summary import EvaluationSummaryWriter
from pipelines.settings import ModuleSettings
from retrain.data.check import kept_rows_filter
from retrain.metrics import CLASSIFICATION, METRICS, tfma_metric
from retrain.runs import NO_BASELINE_URI, RUNTIME_PARAMETERS
from retrain.spec.model import Spec
from retrain.spec.tfschema import SCHEMA_SUFFIX

Orchestrator = Literal["local", "vertex"]

# Beam 2.74's DirectRunner first tries the Prism runner, which downloads a binary at run time.
# Batch pipelines have no unsafe triggers, and declaring that makes Beam skip Prism and run
# the in-process FnApiRunner: no download, no network. In memory with one worker: measured
# against multi_processing with 2 workers on the 2-core machine, it was faster at 1k and 100k
# rows (bench/scaling.py --direct-workers 2; figures in docs/benchmarks.md).
LOCAL_BEAM_ARGS = (
    "--direct_running_mode=in_memory",
    "--direct_num_workers=1",
    "--allow_unsafe_triggers",
)


@dataclass(frozen=True)
class PipelineTarget:
    """Where and how a pipeline runs; everything that is not in the spec."""

    orchestrator: Orchestrator
    pipeline_root: str
    serving_dir: str
    repo_root: Path = Path(".")
    metadata_path: str | None = None
    input_csv: str = ""  # local runs: the training query's result; default the spec's file
    data_facts: str = ""  # local runs: rows read and dropped before ExampleGen (JSON)
    schema_file: str = ""  # the spec's checked-in TFDV schema; default: where the image has it
    schema_source: str = ""  # compiling: that file in this checkout (its blob sha is lineage)
    snapshot_query: str = ""  # BigQuery: the training query as of the run's data snapshot
    run_values: dict[str, str] = field(default_factory=dict)
    beam_args: tuple[str, ...] = LOCAL_BEAM_ARGS  # pipeline-level: every Beam component
    started_at: str = ""
    cloud: cloud_args.CloudTarget | None = None  # compiling for Vertex: spec resources apply


def pipeline_name(spec: Spec) -> str:
    return f"retrain-{spec.name}"


# Where the pipeline image holds the deployed specs and their schemas (docker/pipelines.Dockerfile
# copies specs/ under its WORKDIR, /pipeline); the image is tagged by the commit the template
# was compiled from, so the schema a Vertex run imports is the one checked in beside the spec.
IMAGE_SPECS_DIR = "/pipeline/specs"


def schema_file(spec: Spec, target: PipelineTarget) -> str:
    if target.schema_file:
        return target.schema_file
    return f"{IMAGE_SPECS_DIR}/{spec.name}{SCHEMA_SUFFIX}"


def _run_parameters(target: PipelineTarget) -> dict[str, Any]:
    if target.orchestrator == "vertex":
        return {
            name: tfx.dsl.experimental.RuntimeParameter(
                name=name, ptype=str, default=NO_BASELINE_URI if name == "baseline_uri" else ""
            )
            for name in RUNTIME_PARAMETERS
        }
    return {name: target.run_values.get(name, "") for name in RUNTIME_PARAMETERS}


def schema_lineage(spec: Spec, target: PipelineTarget) -> tuple[str, str]:
    """The schema file a summary's lineage names (`specs/<name>.schema.pbtxt`) and its git blob
    sha, read where this process finds it (compiling: beside the spec); empty when absent."""
    path = Path(target.schema_source or target.schema_file)
    if not path.name or not path.is_file():
        return "", ""
    data = path.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return f"specs/{spec.name}{SCHEMA_SUFFIX}", blob


def _code_version(target: PipelineTarget) -> dict[str, str]:
    """Local runs: the pipeline code's hash, so a cached Transform or Trainer is never reused
    by other code under the same module path. Vertex keys its cache on the image instead."""
    if target.orchestrator != "local":
        return {}
    from retrain.pipeline_env.compile import code_hash

    return {"code_version": code_hash(target.repo_root)}


def _train_args(spec: Spec) -> Any:
    """Steps when the spec counts batches; none when it counts epochs (TFX then passes
    `train_steps=None` to `run_fn`, which trains `epochs` passes over a finite dataset)."""
    if spec.trainer.train_steps is None:
        return tfx.proto.TrainArgs()
    return tfx.proto.TrainArgs(num_steps=spec.trainer.train_steps)


def _split_config(spec: Spec) -> example_gen_pb2.Output:
    train_buckets, eval_buckets = spec.evaluation.split_buckets
    return example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=train_buckets),
                example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=eval_buckets),
            ]
        )
    )


def _example_gen(spec: Spec, target: PipelineTarget, params: dict[str, Any]) -> Any:
    if target.orchestrator == "vertex" and spec.data.source == "bigquery":
        if not target.snapshot_query:
            raise ValueError(f"{spec.name}: no snapshot query; compile with `retrain compile`")
        return SnapshotBigQueryExampleGen(
            query=selection_query(spec, target.snapshot_query),
            output_config=_split_config(spec),
            data_snapshot=params["data_snapshot"],
            temp_dataset=target.cloud.bigquery_temp_dataset if target.cloud else "",
        ).with_id("BigQueryExampleGen")
    csv = Path(target.input_csv) if target.input_csv else target.repo_root / spec.data.local.path
    csv = csv.resolve()
    return tfx.components.CsvExampleGen(
        input_base=str(csv.parent),
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern=csv.name)]
        ),
        output_config=_split_config(spec),
    )


def selection_query(spec: Spec, query: str) -> str:
    """The training query (`query`: the spec's, reading the table as of the run's snapshot)
    without the rows a run drops (label missing, drop_row features), as local runs select
    them with DuckDB."""
    keep = " AND ".join(f"NOT ({condition})" for _, condition in kept_rows_filter(spec))
    return f"SELECT * FROM ({query}) WHERE {keep}"


def _bound(value: float | None) -> dict[str, float] | None:
    return None if value is None else {"value": value}


def _threshold(spec: Spec, name: str) -> tfma.MetricThreshold | None:
    m = next(m for m in spec.evaluation.metrics if m.name == name)
    info = METRICS[name]
    threshold = tfma.MetricThreshold()
    if m.min is not None or m.max is not None:
        threshold.value_threshold.CopyFrom(
            tfma.GenericValueThreshold(lower_bound=_bound(m.min), upper_bound=_bound(m.max))
        )
    if m.max_regression is not None:
        # The change threshold is on candidate - baseline; "-0" would forbid any loss.
        allowed = m.max_regression if m.max_regression > 0 else 1e-9
        direction = (
            tfma.MetricDirection.HIGHER_IS_BETTER
            if info.higher_is_better
            else tfma.MetricDirection.LOWER_IS_BETTER
        )
        limit = -allowed if info.higher_is_better else allowed
        threshold.change_threshold.CopyFrom(
            tfma.GenericChangeThreshold(direction=direction, absolute={"value": limit})
        )
    gated = threshold.HasField("value_threshold") or threshold.HasField("change_threshold")
    return threshold if gated else None


def _slicing_specs(spec: Spec) -> list[tfma.SlicingSpec]:
    return [tfma.SlicingSpec()] + [
        tfma.SlicingSpec(feature_keys=list(cross)) for cross in spec.evaluation.slices
    ]


def _metric_config(spec: Spec, name: str) -> tfma.MetricConfig:
    threshold = _threshold(spec, name)
    # By default gate on the whole eval set only: a plain `threshold` applies to every slice,
    # and one small slice's noise would then refuse a better model. `slices_gate` asks for it.
    gated = _slicing_specs(spec) if spec.evaluation.slices_gate else [tfma.SlicingSpec()]
    per_slice = tfma.PerSliceMetricThreshold(slicing_specs=gated, threshold=threshold)
    return tfma.MetricConfig(
        class_name=tfma_metric(name, spec.task).class_name,
        per_slice_thresholds=[per_slice] if threshold is not None else None,
    )


def _confusion_config(spec: Spec) -> tfma.MetricConfig:
    """A classifier's confusion matrix: reported, never gated. Binary: at the 0.5 cut-off;
    multiclass: the top class (threshold 0, so every row has a prediction)."""
    if spec.task == "multiclass_classification":
        return tfma.MetricConfig(
            class_name="MultiClassConfusionMatrixAtThresholds", config='{"thresholds": [0.0]}'
        )
    return tfma.MetricConfig(
        class_name="ConfusionMatrixAtThresholds", config='{"thresholds": [0.5]}'
    )


# Per-class figures of a multiclass model: reported, never gated.
PER_CLASS_METRICS = ("Precision", "Recall", "F1Score")


def _metrics_specs(spec: Spec) -> list[tfma.MetricsSpec]:
    names = [m.name for m in spec.evaluation.metrics]
    plain = [_metric_config(spec, n) for n in names if not tfma_metric(n, spec.task).macro]
    plain.append(tfma.MetricConfig(class_name="ExampleCount"))
    if spec.task in CLASSIFICATION:
        plain.append(_confusion_config(spec))
    specs = [tfma.MetricsSpec(metrics=plain)]
    if spec.task != "multiclass_classification":
        return specs
    class_ids = list(range(len(spec.classes or [])))
    macro = [_metric_config(spec, n) for n in names if tfma_metric(n, spec.task).macro]
    if macro:
        specs.append(
            tfma.MetricsSpec(
                metrics=macro,
                aggregate=tfma.AggregationOptions(
                    macro_average=True, class_weights={i: 1.0 for i in class_ids}
                ),
            )
        )
    specs.append(
        tfma.MetricsSpec(
            metrics=[tfma.MetricConfig(class_name=c) for c in PER_CLASS_METRICS],
            binarize=tfma.BinarizationOptions(class_ids={"values": class_ids}),
        )
    )
    return specs


def eval_config(spec: Spec) -> tfma.EvalConfig:
    """TFMA config from the spec: slices, metrics, value and change thresholds, and confidence
    intervals by TFMA's Poisson bootstrap (the level is applied when the summary is written:
    TFMA keeps each value's standard error, `pipelines.summary_builder.interval`)."""
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                name="candidate", signature_name="serving_default", label_key=spec.label
            ),
            tfma.ModelSpec(
                name="baseline",
                signature_name="serving_default",
                label_key=spec.label,
                is_baseline=True,
            ),
        ],
        slicing_specs=_slicing_specs(spec),
        metrics_specs=_metrics_specs(spec),
        options=_interval_options(spec),
    )


def _interval_options(spec: Spec) -> tfma.Options | None:
    if spec.evaluation.confidence_level is None:
        return None
    return tfma.Options(
        compute_confidence_intervals={"value": True},
        confidence_intervals=tfma.ConfidenceIntervalOptions(
            method=tfma.ConfidenceIntervalOptions.POISSON_BOOTSTRAP
        ),
    )


def _trainer(spec: Spec, target: PipelineTarget, custom_config: dict[str, Any]) -> Any:
    """The Trainer class with its custom_config bound: a Vertex AI custom job when the spec
    says `resources.training` and the template is for Vertex, else the step trains itself."""
    training = spec.resources.training
    if target.cloud is None or training is None or not target.cloud.vertex_training:
        return partial(tfx.components.Trainer, custom_config=custom_config)
    vertex = cloud_args.vertex_training_config(training, target.cloud)
    return partial(
        tfx.extensions.google_cloud_ai_platform.Trainer, custom_config={**custom_config, **vertex}
    )


def _place_steps(spec: Spec, target: PipelineTarget, components: list[Any]) -> None:
    """Where a Vertex template's steps run, from the spec's resources: Beam args on the Beam
    components only (pipeline-level args would reach every container), and CPU and memory
    limits through KubeflowV2's ResourceSpec, the one resource setting TFX 1.16's compiler
    carries (step_builder.py copies a component's platform_config into its container)."""
    if target.cloud is None:
        return
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.dsl.components.base.base_beam_component import BaseBeamComponent
    from tfx.dsl.components.base.base_component import BaseComponent

    beam = cloud_args.beam_args(spec.resources.data_processing, target.cloud)
    step = spec.resources.step
    for component in components:
        if isinstance(component, BaseBeamComponent):
            component.with_beam_pipeline_args(list(beam))
        if step is not None and isinstance(component, BaseComponent):
            cpu, memory = cloud_args.step_limits(step)
            component.with_platform_config(
                pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec(
                    cpu_limit=cpu, memory_limit=memory
                )
            )


def create_pipeline(spec: Spec, target: PipelineTarget) -> tfx.dsl.Pipeline:
    """The TFX pipeline for `spec`, wired for `target`."""
    params = _run_parameters(target)
    settings = ModuleSettings.from_spec(spec)
    code = _code_version(target)
    # Unset settings (`epochs` of a spec counting steps) are left out: a spec that does not
    # use a setting added later keeps its Trainer's and Transform's cache keys.
    custom_config = {"retrain": settings.model_dump(exclude_none=True), **code}
    # The Transform reads no hyperparameter: leaving them out lets a run that changes only
    # those reuse its cached output.
    transform_config = {"retrain": settings.for_transform().model_dump(exclude_none=True), **code}

    example_gen = _example_gen(spec, target, params)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    # The schema is checked in beside the spec and reviewed like code (`retrain schema infer`),
    # never re-inferred from the run's own data: ExampleValidator then sees what changed.
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file(spec, target))
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    components: list[Any] = [example_gen, statistics_gen, schema_gen, example_validator]

    trainer_inputs: dict[str, Any] = {"schema": schema_gen.outputs["schema"]}
    if spec.transform:
        transform = tfx.components.Transform(
            examples=example_gen.outputs["examples"],
            schema=schema_gen.outputs["schema"],
            preprocessing_fn="pipelines.transform.preprocessing_fn",
            custom_config=transform_config,
        )
        components.append(transform)
        trainer_inputs.update(
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
        )
    else:
        trainer_inputs["examples"] = example_gen.outputs["examples"]

    trainer = _trainer(spec, target, custom_config)(
        run_fn=f"{spec.trainer.module}.run_fn",
        train_args=_train_args(spec),
        eval_args=tfx.proto.EvalArgs(num_steps=spec.trainer.eval_steps),
        **trainer_inputs,
    )
    # Production's model, named per run (never TFX's latest blessed model, which would include
    # unmerged PR candidates); NO_BASELINE_URI when there is none.
    baseline = tfx.dsl.Importer(
        source_uri=params["baseline_uri"] or NO_BASELINE_URI,
        artifact_type=tfx.types.standard_artifacts.Model,
    ).with_id("production_model")
    evaluator = ProductionEvaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["result"],
        eval_config=eval_config(spec),
    ).with_id("Evaluator")
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=target.serving_dir)
        ),
    )
    schema, schema_blob = schema_lineage(spec, target)
    summary = EvaluationSummaryWriter(
        evaluation=evaluator.outputs["evaluation"],
        blessing=evaluator.outputs["blessing"],
        anomalies=example_validator.outputs["anomalies"],
        statistics=statistics_gen.outputs["statistics"],
        model=trainer.outputs["model"],
        pushed_model=pusher.outputs["pushed_model"],
        baseline_model=baseline.outputs["result"],
        spec_json=spec.model_dump_json(),
        data_facts=target.data_facts,
        pipeline_root=target.pipeline_root,
        orchestrator=target.orchestrator,
        started_at=target.started_at,
        schema_file=schema,
        schema_blob=schema_blob,
        **params,
    )
    components += [trainer, baseline, evaluator, pusher, summary]
    _place_steps(spec, target, components)

    metadata = (
        tfx.orchestration.metadata.sqlite_metadata_connection_config(target.metadata_path)
        if target.metadata_path
        else None
    )
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name(spec),
        pipeline_root=target.pipeline_root,
        components=components,
        metadata_connection_config=metadata,
        beam_pipeline_args=list(target.beam_args),
        # Safe to cache: a step's key holds its inputs and settings, and what could change
        # under an unchanged key is in them too: the data snapshot (ExampleGen's input file or
        # query parameter), the schema (a content-addressed file locally, the image on
        # Vertex) and the code (`code_version` locally, the image's commit on Vertex).
        enable_cache=True,
    )
