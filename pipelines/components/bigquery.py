"""TFX's BigQueryExampleGen, reading the watched table as of the run's data snapshot.

The compiled query reads the table `FOR SYSTEM_TIME AS OF` a placeholder
(`retrain.spec.sql.time_travel_query`); the snapshot is a per-run value (the `data_snapshot`
RuntimeParameter), which BigQueryExampleGen's query cannot take, so it is this component's own
execution parameter, and the executor fills it in (`at_snapshot`) before the query runs. It is
part of the step's inputs, hence of Vertex's cache key: a new snapshot never reuses old examples.

Beam's `ReadFromBigQuery(query=...)` (EXPORT, the default method) writes the query's results
to a table before exporting them. Without a `temp_dataset` it creates a dataset for that table
on every read (`bigquery.datasets.create`, which the pipeline identities do not hold); with one
it creates and deletes only the table (apache_beam/io/gcp/bigquery.py, ReadFromBigQuery's
docstring and `_CustomBigQuerySource._setup_temporary_dataset`). The dataset is this
component's `temp_dataset` parameter ("PROJECT.DATASET", a string: a template carries no
Python objects), turned into the `DatasetReference` Beam takes here, in the executor. TFX's
own `custom_config` cannot carry it: BigQueryExampleGen passes its JSON as keyword arguments
unchanged (tfx/extensions/google_cloud_big_query/example_gen/executor.py, `_BigQueryToExample`).
"""

import datetime
from typing import Any, ClassVar

import apache_beam as beam
from tfx import types
from tfx.components.example_gen import utils as example_gen_utils
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.extensions.google_cloud_big_query import utils as bigquery_utils
from tfx.extensions.google_cloud_big_query.example_gen import executor as bigquery_executor
from tfx.extensions.google_cloud_big_query.example_gen.component import BigQueryExampleGen
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.types.component_spec import ExecutionParameter
from tfx.types.standard_component_specs import QueryBasedExampleGenSpec

from retrain.google.bigquery import DatasetTimeTravel, bigquery_client
from retrain.spec.sql import TIME_TRAVEL, at_snapshot, time_travel_window

SNAPSHOT_KEY = "data_snapshot"
TEMP_DATASET_KEY = "temp_dataset"


class SnapshotExampleGenSpec(QueryBasedExampleGenSpec):  # type: ignore[misc]
    PARAMETERS: ClassVar[dict[str, ExecutionParameter]] = {
        **QueryBasedExampleGenSpec.PARAMETERS,
        SNAPSHOT_KEY: ExecutionParameter(type=str, optional=True),
        TEMP_DATASET_KEY: ExecutionParameter(type=str, optional=True),
    }


def read_options(exec_properties: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of Beam's ReadFromBigQuery beyond the query: `temp_dataset` as the
    DatasetReference Beam reads `.projectId` and `.datasetId` from (bigquery.py,
    `_CustomBigQuerySource._get_project` and `split`); none when the parameter is empty."""
    name = exec_properties.get(TEMP_DATASET_KEY) or ""
    if not name:
        return {}
    from apache_beam.io.gcp.internal.clients.bigquery import DatasetReference

    project, _, dataset = name.partition(".")
    if not project or not dataset:
        raise ValueError(f"temp_dataset {name!r} is not PROJECT.DATASET")
    return {"temp_dataset": DatasetReference(projectId=project, datasetId=dataset)}


@beam.ptransform_fn  # type: ignore[untyped-decorator]
def _read_at_snapshot(
    pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str
) -> beam.pvalue.PCollection:
    """TFX's `_BigQueryToExample` (same converter, same read), with the snapshot filled in
    (bounded by the time travel window of the table's dataset) and the read's temporary
    dataset given."""
    now = datetime.datetime.now(datetime.timezone.utc)
    project = bigquery_utils.parse_gcp_project(exec_properties["_beam_pipeline_args"])
    snapshot = exec_properties.get(SNAPSHOT_KEY) or ""
    # no snapshot: the query reads as of now, and no dataset needs asking
    window = (
        time_travel_window(split_pattern, DatasetTimeTravel(bigquery_client(project)))
        if snapshot
        else TIME_TRAVEL
    )
    query = at_snapshot(split_pattern, snapshot, now, window)
    converter = bigquery_executor._BigQueryConverter(query, project)
    return (
        pipeline
        | "QueryTable"
        >> bigquery_utils.ReadFromBigQuery(
            query=query, big_query_custom_config=read_options(exec_properties)
        )
        | "ToTFExample" >> beam.Map(converter.RowToExample)
    )


class Executor(bigquery_executor.Executor):  # type: ignore[misc]
    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _read_at_snapshot


class SnapshotBigQueryExampleGen(BigQueryExampleGen):  # type: ignore[misc]
    SPEC_CLASS = SnapshotExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(
        self, *, query: str, output_config: Any, data_snapshot: Any, temp_dataset: str = ""
    ) -> None:
        # QueryBasedExampleGen.__init__ builds its own spec class; this one adds the snapshot.
        spec = SnapshotExampleGenSpec(
            input_config=example_gen_utils.make_default_input_config(query),
            output_config=output_config,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            data_snapshot=data_snapshot,
            temp_dataset=temp_dataset or None,
            examples=types.Channel(type=standard_artifacts.Examples),
        )
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
