"""IAM as a checked contract: every Google API method each service account's code path calls,
with the permission it needs and where that permission must hold.

`infra/iam.json` is what Terraform grants (role, scope, condition per account); the tests hold
the two together through a map of each granted role's permissions (taken from Google's IAM
roles reference): every permission here is granted at its scope, and every grant carries at
least one permission some code path here needs. Predefined roles come as bundles, so "nothing
more" is checked per role: a role no code path needs is not granted.

Scopes: `project`; `bucket` (the artefact bucket) or `bucket:PREFIX` (objects under PREFIX, an
IAM condition); `service_account:NAME` (act as that account); `topic:KIND`; `secret:github`;
`repository:templates` (the Template Registry); `datasets` (datasets of watched tables in
other projects); `all_datasets` (every watched table's dataset, in any project); `dataset:KEY`
(a temporary dataset of the BigQuery reads, infra/main.tf). A role `custom:ID` is a custom role
defined in infra/iam.json (`custom_roles`), exactly its permissions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    account: str  # key of var.service_accounts in infra/
    adapter: str  # where in the code (or which deployed component) makes the call
    method: str  # the Google API method
    permission: str
    scope: str = "project"


_VERTEX = "retrain.google.vertex.VertexBackend"
_TEMPLATES = "retrain.google.template_registry.Templates"
_STATE = "retrain.google.firestore.FirestoreStore"
_COMPLETION = "retrain.completion (summary, history)"

CALLS: tuple[Call, ...] = (
    # -- functions: the four Cloud Functions ------------------------------------------------
    Call("functions", f"{_VERTEX}.submit", "PipelineService.CreatePipelineJob",
         "aiplatform.pipelineJobs.create"),
    Call("functions", f"{_VERTEX}.submit (serviceAccount)", "PipelineService.CreatePipelineJob",
         "iam.serviceAccounts.actAs", "service_account:pipelines"),
    Call("functions", f"{_VERTEX}.running", "PipelineService.ListPipelineJobs",
         "aiplatform.pipelineJobs.list"),
    Call("functions", f"{_VERTEX}.describe", "PipelineService.GetPipelineJob",
         "aiplatform.pipelineJobs.get"),
    # "aiplatform.metadataStores.get allows the service account to create a pipeline job"
    # (https://cloud.google.com/vertex-ai/docs/tabular-data/tabular-workflows/service-accounts)
    Call("functions", f"{_VERTEX}.submit (the default metadata store)",
         "PipelineService.CreatePipelineJob", "aiplatform.metadataStores.get"),
    Call("functions", f"{_TEMPLATES}.read (gs://)", "storage.objects.get",
         "storage.objects.get", "bucket"),
    Call("functions", f"{_TEMPLATES}.read (Template Registry)", "GET REGION-kfp.pkg.dev",
         "artifactregistry.repositories.downloadArtifacts", "repository:templates"),
    Call("functions", f"{_COMPLETION} read", "storage.objects.get",
         "storage.objects.get", "bucket"),
    Call("functions", f"{_COMPLETION} history write", "storage.objects.insert",
         "storage.objects.create", "bucket:history/"),
    Call("functions", f"{_COMPLETION} history overwrite", "storage.objects.insert",
         "storage.objects.delete", "bucket:history/"),
    Call("functions", "retrain.completion.alerts (a run's anomalies as a drift alert)",
         "Publisher.Publish", "pubsub.topics.publish", "topic:drift_alert"),
    Call("functions", f"{_STATE} (transaction reads)", "Firestore.BeginTransaction/Get",
         "datastore.entities.get"),
    Call("functions", f"{_STATE} (transaction writes)", "Firestore.Commit",
         "datastore.entities.create"),
    Call("functions", f"{_STATE} (transaction writes)", "Firestore.Commit",
         "datastore.entities.update"),
    Call("functions", "function runtime (--set-secrets RETRAIN_GITHUB_TOKEN)",
         "SecretManagerService.AccessSecretVersion", "secretmanager.versions.access",
         "secret:github"),
    # -- pipelines: the PipelineJob's run-as account (TFX components on Vertex) -------------
    Call("pipelines", "BigQueryExampleGen (Beam BigQuery read)", "jobs.insert",
         "bigquery.jobs.create"),
    Call("pipelines", "BigQueryExampleGen (Beam BigQuery read)", "tabledata / Storage Read",
         "bigquery.tables.getData"),
    Call("pipelines", "BigQueryExampleGen (tables in other projects)", "tabledata",
         "bigquery.tables.getData", "datasets"),
    # The snapshot's bound: the watched dataset's maxTimeTravelHours (retrain.google.bigquery).
    Call("pipelines", "retrain.google.bigquery.DatasetTimeTravel", "datasets.get",
         "bigquery.datasets.get"),
    Call("pipelines", "retrain.google.bigquery.DatasetTimeTravel (other projects)",
         "datasets.get", "bigquery.datasets.get", "datasets"),
    # Beam's ReadFromBigQuery(query=...) (EXPORT) with a temp_dataset (pipelines/components/
    # bigquery.py): the query job writes its results to a table there, an extract job exports
    # it, Beam deletes it (apache_beam/io/gcp/bigquery_tools.py, BigQueryWrapper: datasets.Get,
    # _start_query_job, _delete_table). BigQuery's jobs.insert reference: a query with a
    # destination table needs bigquery.tables.create/updateData, an extract tables.export.
    Call("pipelines", "BigQueryExampleGen (temp_dataset lookup)", "datasets.get",
         "bigquery.datasets.get", "dataset:tmp"),
    Call("pipelines", "BigQueryExampleGen (query results table)", "jobs.insert (query)",
         "bigquery.tables.create", "dataset:tmp"),
    Call("pipelines", "BigQueryExampleGen (query results table)", "jobs.insert (query)",
         "bigquery.tables.updateData", "dataset:tmp"),
    Call("pipelines", "BigQueryExampleGen (export of the results)", "jobs.insert (extract)",
         "bigquery.tables.export", "dataset:tmp"),
    Call("pipelines", "BigQueryExampleGen (clean up)", "tables.delete",
         "bigquery.tables.delete", "dataset:tmp"),
    Call("pipelines", "TFX components (pipeline root, served models)", "storage.objects.*",
         "storage.objects.create", "bucket"),
    Call("pipelines", "TFX components (pipeline root, served models)", "storage.objects.*",
         "storage.objects.get", "bucket"),
    Call("pipelines", "TFX components (pipeline root, served models)", "storage.objects.*",
         "storage.objects.delete", "bucket"),
    Call("pipelines", "TFX on Vertex (ML Metadata)", "MetadataService.CreateArtifact",
         "aiplatform.artifacts.create"),
    # resources.data_processing.runner: dataflow (pipelines/cloud_args.py): the Beam step
    # submits a Dataflow job whose workers run as this account; resources.training: the
    # Trainer step submits a Vertex AI custom job running as this account.
    Call("pipelines", "Beam components (DataflowRunner)", "Jobs.CreateJob", "dataflow.jobs.create"),
    Call("pipelines", "Beam components (DataflowRunner waits)", "Jobs.GetJob", "dataflow.jobs.get"),
    Call("pipelines", "Beam components (--service_account_email)", "actAs",
         "iam.serviceAccounts.actAs", "service_account:pipelines"),
    Call("pipelines", "Dataflow workers (run as this account)", "WorkItems.Lease",
         "dataflow.workItems.lease"),
    Call("pipelines", "Dataflow workers (run as this account)", "WorkItems.ReportStatus",
         "dataflow.workItems.update"),
    # The pipeline image is the workers' SDK container (docker/pipelines.Dockerfile); a worker
    # pulls it as the worker service account (Dataflow: "Use custom containers", permissions).
    Call("pipelines", "Dataflow workers pull the pipeline image", "docker pull (Artifact Registry)",
         "artifactregistry.repositories.downloadArtifacts", "repository:images"),
    Call("pipelines", "Trainer (TFX Vertex training extension)", "JobService.CreateCustomJob",
         "aiplatform.customJobs.create"),
    Call("pipelines", "Trainer (waits for the custom job)", "JobService.GetCustomJob",
         "aiplatform.customJobs.get"),
    # -- events: Eventarc's push identity ----------------------------------------------------
    Call("events", "Eventarc trigger (push to the function)", "Cloud Run invoke",
         "run.routes.invoke"),
    Call("events", "Eventarc trigger", "event receipt", "eventarc.events.receiveEvent"),
    # -- deployer: Cloud Build on merge (cloudbuild.yaml) -----------------------------------
    Call("deployer", "retrain deploy functions (gcloud functions deploy)",
         "FunctionService.CreateFunction/UpdateFunction", "cloudfunctions.functions.create"),
    Call("deployer", "retrain deploy functions (Cloud Run service under the function)",
         "Services.UpdateService", "run.services.update"),
    Call("deployer", "retrain deploy functions (--trigger-topic)", "Eventarc.CreateTrigger",
         "eventarc.triggers.create"),
    Call("deployer", "retrain deploy functions (dead letter, backoff)",
         "Subscriber.UpdateSubscription", "pubsub.subscriptions.update"),
    Call("deployer", "retrain deploy schedules", "CloudScheduler.CreateJob",
         "cloudscheduler.jobs.create"),
    Call("deployer", "retrain deploy promotions (Model Registry)", "ModelService.UploadModel",
         "aiplatform.models.upload"),
    Call("deployer", "retrain deploy promotions (the registry model and its versions)",
         "ModelService.GetModel", "aiplatform.models.get"),
    Call("deployer", "retrain deploy promotions (is the run's version registered)",
         "ModelService.ListModelVersions", "aiplatform.models.list"),
    Call("deployer", "retrain deploy promotions (alias onto a registered version)",
         "ModelService.MergeVersionAliases", "aiplatform.models.update"),
    Call("deployer", "docker push / kfp RegistryClient upload", "artifact upload",
         "artifactregistry.repositories.uploadArtifacts"),
    Call("deployer", "Cloud Build (build logs of a user-managed account)",
         "LoggingServiceV2.WriteLogEntries", "logging.logEntries.create"),
    Call("deployer", "retrain deploy templates (templates, release indexes)",
         "storage.objects.insert", "storage.objects.create", "bucket"),
    Call("deployer", "retrain deploy templates (previous release)", "storage.objects.get",
         "storage.objects.get", "bucket"),
    # Also seen by the build rehearsal (tests/delivery/test_build_rehearsal.py records every
    # request the deploy steps make and checks each is listed here):
    Call("deployer", "retrain deploy plan (is there a release yet: list its name)",
         "storage.objects.list", "storage.objects.list", "bucket"),
    Call("deployer", "retrain deploy templates (releases/latest.json replaced)",
         "storage.objects.insert", "storage.objects.delete", "bucket"),
    Call("deployer", "retrain deploy plan/templates (image digest: gcloud artifacts docker "
         "images describe)", "dockerImages.get", "artifactregistry.dockerimages.get"),
    Call("deployer", "retrain deploy functions (gcloud functions describe)",
         "FunctionService.GetFunction", "cloudfunctions.functions.get"),
    Call("deployer", "retrain deploy functions (a redeploy)", "FunctionService.UpdateFunction",
         "cloudfunctions.functions.update"),
    Call("deployer", "retrain deploy functions (gcloud eventarc triggers describe)",
         "Eventarc.GetTrigger", "eventarc.triggers.get"),
    Call("deployer", "retrain deploy schedules (gcloud scheduler jobs list)",
         "CloudScheduler.ListJobs", "cloudscheduler.jobs.list"),
    Call("deployer", "retrain deploy schedules (a changed schedule)",
         "CloudScheduler.UpdateJob", "cloudscheduler.jobs.update"),
    Call("deployer", "retrain deploy schedules (a spec lost its schedule)",
         "CloudScheduler.DeleteJob", "cloudscheduler.jobs.delete"),
    Call("deployer", "gcloud functions deploy --service-account", "actAs",
         "iam.serviceAccounts.actAs", "service_account:functions"),
    Call("deployer", "gcloud functions deploy --trigger-service-account", "actAs",
         "iam.serviceAccounts.actAs", "service_account:events"),
    Call("deployer", "gcloud functions deploy --build-service-account", "actAs",
         "iam.serviceAccounts.actAs", "service_account:build"),
    # -- build: the functions' source builds (Cloud Build, on behalf of Cloud Functions) -----
    Call("build", "function source build (buildpacks)", "storage.objects.get (source)",
         "storage.objects.get"),
    Call("build", "function source build (image push)", "artifact upload",
         "artifactregistry.repositories.uploadArtifacts"),
    Call("build", "function source build (build logs)", "LoggingServiceV2.WriteLogEntries",
         "logging.logEntries.create"),
    # -- ci: GitHub Actions candidate runs (Workload Identity Federation) -------------------
    Call("ci", "retrain candidate (VertexBackend.submit)", "PipelineService.CreatePipelineJob",
         "aiplatform.pipelineJobs.create"),
    # "aiplatform.metadataStores.get allows the service account to create a pipeline job"
    # (https://cloud.google.com/vertex-ai/docs/tabular-data/tabular-workflows/service-accounts)
    Call("ci", "retrain candidate (VertexBackend.submit: the default metadata store)",
         "PipelineService.CreatePipelineJob", "aiplatform.metadataStores.get"),
    Call("ci", "retrain candidate (serviceAccount)", "actAs",
         "iam.serviceAccounts.actAs", "service_account:candidate_runs"),
    Call("ci", "docker push (candidate image)", "artifact upload",
         "artifactregistry.repositories.uploadArtifacts", "repository:candidates"),
    Call("ci", "retrain candidate (templates)", "storage.objects.insert",
         "storage.objects.create", "bucket:candidates/"),
    Call("ci", "retrain candidate (template read)", "storage.objects.get",
         "storage.objects.get", "bucket:candidates/"),
    Call("ci", "retrain candidate (a commit's templates uploaded again)",
         "storage.objects.insert", "storage.objects.delete", "bucket:candidates/"),
    Call("ci", "retrain candidate (image check: gcloud artifacts docker images describe)",
         "dockerImages.get", "artifactregistry.dockerimages.get", "repository:candidates"),
    Call("ci", "retrain candidate (candidate run roots)", "storage.objects.insert",
         "storage.objects.create", "bucket:pipelines/candidates/"),
    Call("ci", "retrain candidate (production's summary, retrain.baseline)",
         "storage.objects.get", "storage.objects.get", "bucket:pipelines/"),
    # -- candidate_runs: a PR candidate's PipelineJob run-as account (infra/candidates.tf) ---
    Call("candidate_runs", "BigQueryExampleGen (Beam BigQuery read)", "jobs.insert",
         "bigquery.jobs.create"),
    # Only the watched tables' datasets, in any project: never the whole project.
    Call("candidate_runs", "BigQueryExampleGen (Beam BigQuery read)", "tabledata",
         "bigquery.tables.getData", "all_datasets"),
    Call("candidate_runs", "retrain.google.bigquery.DatasetTimeTravel", "datasets.get",
         "bigquery.datasets.get", "all_datasets"),
    Call("candidate_runs", "BigQueryExampleGen (temp_dataset lookup)", "datasets.get",
         "bigquery.datasets.get", "dataset:candidates_tmp"),
    Call("candidate_runs", "BigQueryExampleGen (query results table)", "jobs.insert (query)",
         "bigquery.tables.create", "dataset:candidates_tmp"),
    Call("candidate_runs", "BigQueryExampleGen (query results table)", "jobs.insert (query)",
         "bigquery.tables.updateData", "dataset:candidates_tmp"),
    Call("candidate_runs", "BigQueryExampleGen (export of the results)", "jobs.insert (extract)",
         "bigquery.tables.export", "dataset:candidates_tmp"),
    Call("candidate_runs", "BigQueryExampleGen (clean up)", "tables.delete",
         "bigquery.tables.delete", "dataset:candidates_tmp"),
    Call("candidate_runs", "TFX components (candidate run root)", "storage.objects.*",
         "storage.objects.create", "bucket:pipelines/candidates/"),
    Call("candidate_runs", "TFX on Vertex (ML Metadata)", "MetadataService.CreateArtifact",
         "aiplatform.artifacts.create"),
    Call("candidate_runs", "the PipelineJob's account (the default metadata store; same page)",
         "MetadataService.GetMetadataStore", "aiplatform.metadataStores.get"),
    # No Dataflow: roles/dataflow.worker holds storage.objects.create/get on every bucket of
    # the project, which would undo the candidates/ confinement; no Vertex custom jobs (PR
    # code could start one as the Vertex service agent): candidate templates are compiled
    # with --no-dataflow --no-vertex-training (Beam and the Trainer run in their steps).
    Call("candidate_runs", "Evaluator (production's model as baseline)", "storage.objects.get",
         "storage.objects.get", "bucket:pipelines/"),
)  # fmt: skip
