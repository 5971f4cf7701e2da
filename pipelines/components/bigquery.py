"""TFX's BigQueryExampleGen, reading the watched table as of the run's data snapshot.

The compiled query reads the table `FOR SYSTEM_TIME AS OF` a placeholder
(`retrain.spec.sql.time_travel_query`); the snapshot is a per-run value (the `data_snapshot`
RuntimeParameter), which BigQueryExampleGen's query cannot take, so it is this component's own
execution parameter, and the executor fills it in (`at_snapshot`) before the query runs. It is
part of the step's inputs, hence of Vertex's cache key: a new snapshot never reuses old examples.
"""

import datetime
from typing import Any, ClassVar

import apache_beam as beam
from tfx import types
from tfx.components.example_gen import utils as example_gen_utils
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.extensions.google_cloud_big_query.example_gen import executor as bigquery_executor
from tfx.extensions.google_cloud_big_query.example_gen.component import BigQueryExampleGen
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.types.component_spec import ExecutionParameter
from tfx.types.standard_component_specs import QueryBasedExampleGenSpec

from retrain.spec.sql import at_snapshot

SNAPSHOT_KEY = "data_snapshot"


class SnapshotExampleGenSpec(QueryBasedExampleGenSpec):  # type: ignore[misc]
    PARAMETERS: ClassVar[dict[str, ExecutionParameter]] = {
        **QueryBasedExampleGenSpec.PARAMETERS,
        SNAPSHOT_KEY: ExecutionParameter(type=str, optional=True),
    }


@beam.ptransform_fn  # type: ignore[untyped-decorator]
def _read_at_snapshot(
    pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str
) -> beam.pvalue.PCollection:
    now = datetime.datetime.now(datetime.timezone.utc)
    query = at_snapshot(split_pattern, exec_properties.get(SNAPSHOT_KEY) or "", now)
    return pipeline | "AtSnapshot" >> bigquery_executor._BigQueryToExample(exec_properties, query)


class Executor(bigquery_executor.Executor):  # type: ignore[misc]
    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _read_at_snapshot


class SnapshotBigQueryExampleGen(BigQueryExampleGen):  # type: ignore[misc]
    SPEC_CLASS = SnapshotExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, *, query: str, output_config: Any, data_snapshot: Any) -> None:
        # QueryBasedExampleGen.__init__ builds its own spec class; this one adds the snapshot.
        spec = SnapshotExampleGenSpec(
            input_config=example_gen_utils.make_default_input_config(query),
            output_config=output_config,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            data_snapshot=data_snapshot,
            examples=types.Channel(type=standard_artifacts.Examples),
        )
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
