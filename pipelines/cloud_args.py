"""What a compiled template tells Google Cloud about where each step runs, from the spec's
`resources` and the deploy configuration. Pure: no TFX import, so the service's tests check it.

- Beam components (ExampleGen, StatisticsGen, Transform, Evaluator) get their Beam args:
  DirectRunner inside the step's container, or DataflowRunner on workers running the pipeline
  image. Both carry the project, region and a GCS temp location, which BigQuery reads need
  (Beam's BigQuery source exports through the temp location; TFX reads the project from the
  Beam args).
- The Trainer, when `resources.training` is set, runs as a Vertex AI custom job: the
  `custom_config` keys TFX's Vertex training extension reads.
- Step containers get CPU and memory limits (KubeflowV2's ResourceSpec).

Local runs use none of this: one machine, DirectRunner (`LOCAL_BEAM_ARGS` in factory.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retrain.spec.model import DataProcessing, StepResources, Training

# Beam 2.74's DirectRunner tries the Prism runner first, which downloads a binary; batch
# pipelines have no unsafe triggers, and saying so keeps it on the in-process runner.
NO_PRISM = "--allow_unsafe_triggers"

# Keys of a Trainer's custom_config read by TFX 1.16's Vertex training extension:
# tfx/extensions/google_cloud_ai_platform/constants.py (ENABLE_VERTEX_KEY, VERTEX_REGION_KEY)
# and trainer/executor.py (TRAINING_ARGS_KEY); runner.start_cloud_training pops `project`
# from the training args, training_clients.VertexJobClient.create_training_job reads
# `job_spec` (a CustomJobSpec) and fills each worker pool's container command itself.
ENABLE_VERTEX_KEY = "ai_platform_enable_vertex"
VERTEX_REGION_KEY = "ai_platform_vertex_region"
TRAINING_ARGS_KEY = "ai_platform_training_args"


@dataclass(frozen=True)
class CloudTarget:
    """The deploy configuration a template is compiled for."""

    project: str
    region: str
    image: str  # the pipeline image: every step, Dataflow workers and the training job run it
    temp_location: str  # gs://: Beam temp files, BigQuery export
    staging_location: str  # gs://: Dataflow's staged job files
    service_account: str = ""  # Dataflow workers and the training job run as it; "" = default
    # PROJECT.DATASET for the BigQuery read's query results (BigQueryExampleGen's
    # bigquery_temp_dataset; retrain.pipeline_env.compile.TEMP_DATASET); "": Beam creates a
    # dataset per read, which needs bigquery.datasets.create
    bigquery_temp_dataset: str = ""
    # False: the Beam components run in their step whatever the spec says (candidate runs,
    # whose account holds no Dataflow roles: see tests/iam/calls.py)
    dataflow: bool = True
    # False: the Trainer trains in its step whatever the spec says (candidate runs: PR code may
    # not create Vertex custom jobs, which can run as the Vertex service agent; tests/iam/calls.py)
    vertex_training: bool = True


def beam_args(data: DataProcessing, cloud: CloudTarget) -> tuple[str, ...]:
    """Beam pipeline args of every Beam component of a cloud run."""
    common = (
        f"--project={cloud.project}",
        f"--region={cloud.region}",
        f"--temp_location={cloud.temp_location}",
    )
    if data.runner == "direct" or not cloud.dataflow:
        return (NO_PRISM, *common)
    # Option names: apache_beam/options/pipeline_options.py (GoogleCloudOptions,
    # WorkerOptions, SetupOptions... in Beam 2.74).
    args = [
        "--runner=DataflowRunner",
        *common,
        f"--staging_location={cloud.staging_location}",
        f"--sdk_container_image={cloud.image}",
    ]
    if cloud.service_account:
        args.append(f"--service_account_email={cloud.service_account}")
    if data.machine_type:
        args.append(f"--machine_type={data.machine_type}")
    if data.max_workers:
        args.append(f"--max_num_workers={data.max_workers}")
    if data.disk_size_gb:
        args.append(f"--disk_size_gb={data.disk_size_gb}")
    return tuple(args)


def vertex_training_config(training: Training, cloud: CloudTarget) -> dict[str, Any]:
    """The Trainer's custom_config entries that make it a Vertex AI custom job."""
    machine: dict[str, Any] = {"machine_type": training.machine_type}
    if training.accelerator is not None:
        machine["accelerator_type"] = training.accelerator.type
        machine["accelerator_count"] = training.accelerator.count
    # A CustomJobSpec (Vertex AI v1 REST reference, CustomJob.jobSpec), snake_case as the
    # aiplatform client's proto-plus messages take it.
    job_spec: dict[str, Any] = {
        "worker_pool_specs": [
            {
                "machine_spec": machine,
                "replica_count": 1,
                "container_spec": {"image_uri": cloud.image},
            }
        ]
    }
    if cloud.service_account:
        job_spec["service_account"] = cloud.service_account
    return {
        ENABLE_VERTEX_KEY: True,
        VERTEX_REGION_KEY: cloud.region,
        TRAINING_ARGS_KEY: {"project": cloud.project, "job_spec": job_spec},
    }


def step_limits(step: StepResources) -> tuple[float, float]:
    """(vCPUs, GB of memory): KubeflowV2's ResourceSpec cpu_limit and memory_limit."""
    return step.cpu_limit, step.memory_limit_gb
