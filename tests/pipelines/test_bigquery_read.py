"""The BigQuery read of a cloud run (pipelines/components/bigquery.py) gives Beam a temporary
dataset, so it never creates one (issue 23, blocker 2).

Beam's ReadFromBigQuery(query=...) (EXPORT, the default) writes the query's results to a table
before exporting them. Without `temp_dataset` it first creates a dataset
(`_CustomBigQuerySource._setup_temporary_dataset` → `BigQueryWrapper.create_temporary_dataset`,
apache_beam/io/gcp/bigquery.py and bigquery_tools.py of the Beam in pipelines/requirements.lock):
`bigquery.datasets.create`, which no identity of ours holds. Checked here on Beam itself, in
the pipeline environment: a BigQuery stand-in that refuses every call shows which calls the
source makes before its query runs.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import PIPELINE_ENV, REPO

pytestmark = pytest.mark.tfx

SCRIPT = r"""
import json, sys
from apache_beam.io.gcp import bigquery, bigquery_tools
from apache_beam.options.pipeline_options import PipelineOptions
from pipelines.components.bigquery import TEMP_DATASET_KEY, read_options

class Recorder:
    # Stands in for BigQueryWrapper: records what the source asks of BigQuery.
    def __init__(self):
        self.calls = []
    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append(name)
            return "US"
        return call

out = {}
for given in (sys.argv[1], ""):
    options = read_options({TEMP_DATASET_KEY: given} if given else {})
    source = bigquery._CustomBigQuerySource(
        method=bigquery.ReadFromBigQuery.Method.EXPORT, query="SELECT 1",
        use_standard_sql=True, gcs_location="gs://b/tmp",
        pipeline_options=PipelineOptions(["--project=billing-project"]), **options)
    bq = Recorder()
    source._setup_temporary_dataset(bq)
    entry = {"calls": bq.calls, "project": source._get_project()}
    if options:
        ref = options["temp_dataset"]
        wrapper = bigquery_tools.BigQueryWrapper(client=object(), temp_dataset_id=ref.datasetId)
        table = wrapper._get_temp_table(ref.projectId)
        entry["table"] = f"{table.projectId}.{table.datasetId}"
        entry["user_configured"] = bool(wrapper.is_user_configured_dataset())
    out[given or "none"] = entry
print(json.dumps(out))
"""


def test_a_given_temp_dataset_is_used_and_no_dataset_is_created() -> None:
    done = subprocess.run(
        [str(PIPELINE_ENV.python), "-c", SCRIPT, "acme-prod.retrain_tmp"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_USE_LEGACY_KERAS": "1", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    # Without a temp_dataset, Beam creates one before the query (what needs datasets.create).
    assert result["none"]["calls"] == ["get_query_location", "create_temporary_dataset"]
    given = result["acme-prod.retrain_tmp"]
    assert given["calls"] == []
    # The results table goes into the given dataset, which Beam keeps (it deletes the table
    # only: BigQueryWrapper.clean_up_temporary_dataset); jobs are billed to its project.
    assert given["table"] == "acme-prod.retrain_tmp"
    assert given["user_configured"] is True
    assert given["project"] == "acme-prod"


def test_a_temp_dataset_that_is_not_project_dot_dataset_is_refused() -> None:
    done = subprocess.run(
        [str(PIPELINE_ENV.python), "-c", SCRIPT, "retrain_tmp"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_USE_LEGACY_KERAS": "1", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode != 0
    assert "is not PROJECT.DATASET" in done.stderr
