"""The pipeline's last step: write the evaluation summary JSON that the service reads.

It runs whether or not the candidate was blessed, reads TFMA's metrics and validation
result, TFDV's anomalies and statistics, and writes the summary twice: as its own output
artefact and at `summary_path(pipeline_root, run_id)`, where the service finds it knowing only
the job id.
"""

# No `from __future__ import annotations`: TFX reads these annotations at runtime.
import datetime
import json
import os

import tensorflow as tf
import tensorflow_model_analysis as tfma
from google.protobuf import json_format
from scipy.stats import t as student_t
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2
from tfx import v1 as tfx
from tfx.types import artifact, artifact_utils, standard_artifacts

from pipelines.components.domain_values import seen_values
from pipelines.components.evaluator import SAMPLES_PROPERTY, SEED_PROPERTY, baseline_problem
from pipelines.summary_builder import (
    MetricValue,
    RawConfusion,
    Spread,
    build_summary,
    parse_changes,
)
from retrain.runs import NO_BASELINE_URI
from retrain.spec.model import Spec
from retrain.summary import (
    Anomaly,
    Confidence,
    DataFacts,
    Lineage,
    ModelRef,
    RunInfo,
    dump_summary,
    summary_path,
)

Parameter = tfx.dsl.components.Parameter
InputArtifact = tfx.dsl.components.InputArtifact
OutputArtifact = tfx.dsl.components.OutputArtifact


class EvaluationSummaryFile(artifact.Artifact):
    """The summary JSON as an MLMD artefact, so runs can be traced from metadata too."""

    # Importable by this name, as Vertex runs need (pipelines/__init__.py says why); the name
    # it had, "retrain.EvaluationSummary", did not import and failed the task on Vertex.
    TYPE_NAME = "pipelines.EvaluationSummary"


NEW_CATEGORIES = "ENUM_TYPE_UNEXPECTED_STRING_VALUES"


def _slice(key: object) -> tuple[tuple[str, str], ...]:
    return tuple(
        (str(column), str(value)) for column, value in tfma.slicer.deserialize_slice_key(key)
    )


def _spread(item) -> Spread | None:
    """TFMA's bootstrap of one value (metrics_for_slice.proto `ConfidenceInterval`), if any."""
    if not item.HasField("confidence_interval"):
        return None
    ci = item.confidence_interval
    if not (ci.lower_bound.HasField("double_value") and ci.upper_bound.HasField("double_value")):
        return None
    low, high = ci.lower_bound.double_value.value, ci.upper_bound.double_value.value
    return Spread(
        mean=(low + high) / 2,  # TFMA centres its interval on the resamples' mean
        standard_error=ci.standard_error.double_value.value,
        degrees_of_freedom=ci.degrees_of_freedom.value,
    )


def t_quantile(level: float, degrees_of_freedom: int) -> float:
    """Two-sided, as TFMA's `math_util.calculate_confidence_interval` at its fixed 95%."""
    return float(student_t.ppf(1 - (1 - level) / 2, degrees_of_freedom))


def _confusion(evaluation_uri: str) -> list[RawConfusion]:
    """The whole eval set's confusion matrix per model: TFMA's multiclass entries, or the
    binary matrix at its one threshold as four entries (class 1 is the positive)."""
    found = []
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        if _slice(metrics_for_slice.slice_key):
            continue
        for item in metrics_for_slice.metric_keys_and_values:
            model, value = item.key.model_name, item.value
            if item.key.is_diff:
                continue
            if value.HasField("multi_class_confusion_matrix_at_thresholds"):
                for matrix in value.multi_class_confusion_matrix_at_thresholds.matrices[:1]:
                    found += [
                        RawConfusion(
                            model, e.actual_class_id, e.predicted_class_id, e.num_weighted_examples
                        )
                        for e in matrix.entries
                    ]
            elif value.HasField("confusion_matrix_at_thresholds"):
                for m in value.confusion_matrix_at_thresholds.matrices[:1]:
                    found += [
                        RawConfusion(model, 1, 1, m.true_positives),
                        RawConfusion(model, 0, 1, m.false_positives),
                        RawConfusion(model, 0, 0, m.true_negatives),
                        RawConfusion(model, 1, 0, m.false_negatives),
                    ]
    return found


def _confidence(evaluation: artifact.Artifact, spec: Spec) -> Confidence | None:
    samples = evaluation.get_int_custom_property(SAMPLES_PROPERTY)
    level = spec.evaluation.confidence_level
    if not samples or level is None:
        return None
    return Confidence(
        level=level,
        samples=samples,
        seed=evaluation.get_int_custom_property(SEED_PROPERTY),
    )


def _metric_values(evaluation_uri: str) -> list[MetricValue]:
    values = []
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        slice_key = _slice(metrics_for_slice.slice_key)
        for item in metrics_for_slice.metric_keys_and_values:
            if not item.value.HasField("double_value"):
                continue
            values.append(
                MetricValue(
                    slice=slice_key,
                    name=item.key.name,
                    model_name=item.key.model_name,
                    is_diff=item.key.is_diff,
                    value=item.value.double_value.value,
                    class_id=item.key.sub_key.class_id.value
                    if item.key.sub_key.HasField("class_id")
                    else None,
                    macro=item.key.aggregation_type.macro_average,
                    spread=_spread(item),
                )
            )
    return values


def _validation_failures(evaluation_uri: str) -> list[str]:
    result = tfma.load_validation_result(evaluation_uri)
    failures = []
    for per_slice in result.metric_validations_per_slice:
        where = ", ".join(f"{c}={v}" for c, v in _slice(per_slice.slice_key)) or "overall"
        for failure in per_slice.failures:
            bound = json_format.MessageToDict(failure.metric_threshold)
            value = failure.metric_value.double_value.value
            detail = failure.message or f"value {value:.4f} fails threshold {json.dumps(bound)}"
            failures.append(f"{where}: {failure.metric_key.name}: {detail}")
    return failures


def _anomalies(anomalies: artifact.Artifact, statistics: artifact.Artifact) -> list[Anomaly]:
    found = []
    stats = dict(_split_statistics(statistics))
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        path = os.path.join(artifact_utils.get_split_uri([anomalies], split), "SchemaDiff.pb")
        if not tf.io.gfile.exists(path):
            continue
        proto = anomalies_pb2.Anomalies()
        proto.ParseFromString(tf.io.gfile.GFile(path, "rb").read())
        for feature, info in sorted(proto.anomaly_info.items()):
            kinds = sorted({anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason})
            found.append(
                Anomaly(
                    feature=feature,
                    kind=",".join(kinds) or "UNKNOWN",
                    severity=anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                    description=f"[{split}] {info.description or info.short_description}",
                    # New categories, from the statistics TFDV compared (not from its prose).
                    values=seen_values(stats[split], feature)
                    if NEW_CATEGORIES in kinds and split in stats
                    else None,
                )
            )
    return found


def _split_statistics(statistics: artifact.Artifact):
    """(split name, TFDV statistics) for each split StatisticsGen described."""
    for split in artifact_utils.decode_split_names(statistics.split_names):
        path = os.path.join(artifact_utils.get_split_uri([statistics], split), "FeatureStats.pb")
        if tf.io.gfile.exists(path):
            stats = statistics_pb2.DatasetFeatureStatisticsList()
            stats.ParseFromString(tf.io.gfile.GFile(path, "rb").read())
            yield split, stats


def _example_counts(statistics: artifact.Artifact) -> dict[str, int]:
    return {
        split: sum(d.num_examples for d in stats.datasets)
        for split, stats in _split_statistics(statistics)
    }


def _missing_values(statistics: artifact.Artifact, features: list[str]) -> dict[str, int]:
    """Missing values per feature, summed over the splits TFDV described."""
    missing: dict[str, int] = {}
    for _split, stats in _split_statistics(statistics):
        for dataset in stats.datasets:
            for feature in dataset.features:
                name = ".".join(feature.path.step)
                kind = feature.WhichOneof("stats")
                if name not in features or kind not in ("num_stats", "string_stats"):
                    continue
                common = getattr(feature, kind).common_stats
                # An empty CSV cell becomes an empty value list, which TFDV counts as
                # present (num_non_missing); a cell holds at most one value, so the rows
                # without one are the examples less the values.
                absent = max(dataset.num_examples - common.tot_num_values, 0)
                missing[name] = missing.get(name, 0) + int(absent)
    return {name: n for name, n in sorted(missing.items()) if n}


def _data_facts(data_facts: str, statistics: artifact.Artifact, spec: Spec) -> DataFacts:
    given = json.loads(data_facts) if data_facts else {}
    return DataFacts(
        rows_read=given.get("rows_read"),
        rows_dropped=given.get("rows_dropped", {}),
        missing=_missing_values(statistics, spec.feature_names),
    )


def _write(path: str, text: str) -> None:
    """Write then rename, so a reader never sees half a summary."""
    tf.io.gfile.makedirs(os.path.dirname(path))
    partial = path + ".partial"
    with tf.io.gfile.GFile(partial, "w") as handle:
        handle.write(text)
    tf.io.gfile.rename(partial, path, overwrite=True)


@tfx.dsl.components.component
def EvaluationSummaryWriter(
    evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
    blessing: InputArtifact[standard_artifacts.ModelBlessing],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    model: InputArtifact[standard_artifacts.Model],
    pushed_model: InputArtifact[standard_artifacts.PushedModel],
    summary: OutputArtifact[EvaluationSummaryFile],
    spec_json: Parameter[str],
    data_facts: Parameter[str],
    pipeline_root: Parameter[str],
    orchestrator: Parameter[str],
    run_id: Parameter[str],
    trigger: Parameter[str],
    git_sha: Parameter[str],
    pr_number: Parameter[str],
    event_id: Parameter[str],
    data_window: Parameter[str],
    data_snapshot: Parameter[str],
    baseline_uri: Parameter[str],
    baseline_version: Parameter[str],
    baseline_reason: Parameter[str],
    spec_changes: Parameter[str],
    schema_file: Parameter[str],
    schema_blob: Parameter[str],
    started_at: Parameter[str],
    baseline_model: InputArtifact[standard_artifacts.Model] = None,  # type: ignore[assignment]
) -> None:
    spec = Spec.model_validate_json(spec_json)
    run = RunInfo(
        run_id=run_id,
        orchestrator="vertex" if orchestrator == "vertex" else "local",
        trigger=trigger or "manual",
        git_sha=git_sha,
        pr_number=int(pr_number) if pr_number.isdigit() else None,
        data_window=data_window,
        event_id=event_id,
        pipeline_root=pipeline_root,
        started_at=started_at,
        finished_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    pushed = pushed_model.get_int_custom_property("pushed") == 1
    # The Evaluator dropped the same baseline for the same reason (pipelines.components.evaluator).
    problem = baseline_problem(baseline_model.uri if baseline_model is not None else "")
    baseline = None if problem else ModelRef(uri=baseline_model.uri, version=baseline_version)
    note = (baseline_reason or problem) if baseline_uri in ("", NO_BASELINE_URI) else problem
    given = json.loads(data_facts) if data_facts else {}
    lineage = Lineage(
        spec_commit=git_sha,
        trigger=run.trigger,
        event_id=event_id,
        data_snapshot=data_snapshot,
        data_window=data_window,
        data_rows=given.get("rows_snapshot"),
        data_hash=given.get("sha256", ""),
        schema_file=schema_file,
        schema_blob=schema_blob,
        baseline_version=baseline_version if baseline is not None else "",
        baseline_note="" if baseline is not None else note,
        candidate_uri=model.uri,
    )
    result = build_summary(
        spec,
        run,
        _metric_values(evaluation.uri),
        blessed=blessing.get_int_custom_property("blessed") == 1,
        validation_failures=_validation_failures(evaluation.uri),
        candidate=ModelRef(
            uri=model.uri,
            pushed_uri=pushed_model.get_string_custom_property("pushed_destination")
            if pushed
            else "",
        ),
        baseline=baseline,
        anomalies=_anomalies(anomalies, statistics),
        example_counts=_example_counts(statistics),
        data=_data_facts(data_facts, statistics, spec),
        lineage=lineage,
        confidence=_confidence(evaluation, spec),
        t_quantile=t_quantile,
        confusion=_confusion(evaluation.uri),
        changes=parse_changes(spec_changes),
    )
    text = dump_summary(result)
    _write(os.path.join(summary.uri, "evaluation_summary.json"), text)
    _write(summary_path(pipeline_root, run_id), text)
