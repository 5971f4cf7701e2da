locals {
  sa = { for role, id in var.service_accounts : role => "${id}@${var.project}.iam.gserviceaccount.com" }
  table_projects = toset([
    for s in var.log_sinks : s.project if s.topic == var.topics["data_arrival"]
  ])
}

data "google_project" "this" {}

resource "google_project_service" "apis" {
  for_each = toset([
    "aiplatform.googleapis.com", "artifactregistry.googleapis.com", "bigquery.googleapis.com",
    "cloudbuild.googleapis.com", "cloudfunctions.googleapis.com", "cloudscheduler.googleapis.com",
    # Dataflow for specs with resources.data_processing.runner: dataflow; its workers are
    # Compute Engine VMs, so it needs the Compute Engine API too.
    "compute.googleapis.com", "dataflow.googleapis.com",
    "eventarc.googleapis.com", "firestore.googleapis.com", "iam.googleapis.com",
    "iamcredentials.googleapis.com", "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com", "pubsub.googleapis.com", "run.googleapis.com",
    "secretmanager.googleapis.com", "sts.googleapis.com",
  ])
  service            = each.value
  disable_on_destroy = false
}

# -- storage ---------------------------------------------------------------------------------

resource "google_storage_bucket" "artifacts" {
  name                        = var.artifact_bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
}

# Where Beam's BigQuery read (BigQueryExampleGen) writes each query's results before exporting
# them. Given a dataset, Beam creates and deletes only a table in it; without one it would create
# a dataset per read (bigquery.datasets.create, which no identity here holds). One for production
# runs, one for candidate runs (PR code must not touch production's intermediate tables). Tables
# expire after a day in case a failed run leaves one behind. Their location must be the watched
# tables' location (a query writes its results in its own location).
resource "google_bigquery_dataset" "temp" {
  for_each                    = { tmp = "retrain_tmp", candidates_tmp = "retrain_candidates_tmp" }
  dataset_id                  = each.value
  location                    = var.bigquery_location
  default_table_expiration_ms = 86400000
  description                 = "retrain: BigQuery read results of ${each.key == "tmp" ? "production" : "candidate"} runs (temporary)"
  depends_on                  = [google_project_service.apis]
}

resource "google_artifact_registry_repository" "images" {
  repository_id = "retrain"
  location      = var.region
  format        = "DOCKER"
  description   = "Pipeline images, tagged by commit; a tag, once pushed, never moves."
  docker_config {
    immutable_tags = true
  }
  depends_on = [google_project_service.apis]
}

resource "google_artifact_registry_repository" "templates" {
  repository_id = "retrain-templates"
  location      = var.region
  format        = "KFP"
  description   = "Vertex pipeline templates (RETRAIN_TEMPLATE_REGISTRY)."
  depends_on    = [google_project_service.apis]
}

resource "google_firestore_database" "state" {
  name        = "(default)"
  location_id = var.region
  type        = "FIRESTORE_NATIVE"
  depends_on  = [google_project_service.apis]
}

# -- Pub/Sub ---------------------------------------------------------------------------------
# The functions' push subscriptions are made by Eventarc when Cloud Build deploys them
# (`gcloud functions deploy --trigger-topic`); `retrain deploy functions` then sets their
# dead-letter topic and retry backoff. Here: the topics and what the dead-letter path needs.

resource "google_pubsub_topic" "events" {
  for_each = merge(var.topics, { schedule = var.schedule_topic })
  name     = each.value
}

resource "google_pubsub_topic" "dead_letter" {
  name = var.dead_letter_topic
}

resource "google_pubsub_subscription" "dead_letter" {
  name                       = "${var.dead_letter_topic}-keep"
  topic                      = google_pubsub_topic.dead_letter.id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
}

locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

# Forwarding to a dead-letter topic also needs subscriber on the source subscriptions, which
# Eventarc names at deploy time: granted on the project.
resource "google_project_iam_member" "pubsub_agent_subscriber" {
  project = var.project
  role    = "roles/pubsub.subscriber"
  member  = local.pubsub_agent
}

# -- log sinks: exact filters from the code ---------------------------------------------------

resource "google_logging_project_sink" "events" {
  for_each               = { for s in var.log_sinks : s.name => s }
  name                   = each.value.name
  project                = each.value.project
  destination            = "pubsub.googleapis.com/projects/${var.project}/topics/${each.value.topic}"
  filter                 = each.value.filter
  unique_writer_identity = true
  depends_on             = [google_pubsub_topic.events]
}

resource "google_pubsub_topic_iam_member" "sink_writers" {
  for_each = google_logging_project_sink.events
  topic    = "projects/${var.project}/topics/${var.log_sinks[index(var.log_sinks[*].name, each.key)].topic}"
  role     = "roles/pubsub.publisher"
  member   = each.value.writer_identity
}

# BigQuery's data-access audit logs (tableDataChange) are on by default and cannot be turned
# off. This resource replaces a project's whole audit configuration for BigQuery, so it is
# opt-in (manage_bigquery_audit_config) for projects whose audit settings nobody else manages.
resource "google_project_iam_audit_config" "bigquery" {
  for_each = var.manage_bigquery_audit_config ? local.table_projects : toset([])
  project  = each.value
  service  = "bigquery.googleapis.com"
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# -- service accounts, least privilege -----------------------------------------------------

resource "google_service_account" "accounts" {
  for_each     = var.service_accounts
  account_id   = each.value
  display_name = "retrain ${each.key}"
}

# The wake-up: every minute a tick on the schedule topic makes `on_schedule` start the
# data-arrival runs that became due with no further event (a debounce window closed, a busy
# spec freed, an interrupted start to resubmit) and check `max_staleness`. Per-spec cron jobs
# are synced by `retrain deploy` under their own prefix; this one is not theirs to delete.
resource "google_cloud_scheduler_job" "flush" {
  name      = "retrain-flush"
  region    = var.region
  schedule  = var.flush_schedule
  time_zone = "Etc/UTC"
  pubsub_target {
    topic_name = google_pubsub_topic.events["schedule"].id
    data       = base64encode(jsonencode({ flush = "due" }))
  }
  depends_on = [google_project_service.apis]
}

# -- GitHub: token in Secret Manager, Workload Identity Federation for Actions ----------------

resource "google_secret_manager_secret" "github" {
  secret_id = var.github_secret
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

resource "google_iam_workload_identity_pool" "github" {
  workload_identity_pool_id = "retrain-github"
  display_name              = "GitHub Actions"
}

resource "google_iam_workload_identity_pool_provider" "github" {
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  attribute_mapping = {
    "google.subject"        = "assertion.sub"
    "attribute.repository"  = "assertion.repository"
    "attribute.event_name"  = "assertion.event_name"
    "attribute.ref"         = "assertion.ref"
    "attribute.environment" = "assertion.environment"
  }
  # Only the candidate workflow of this repository, in a candidate environment (whose
  # protection rules gate paid runs), for the event and ref of a pull request, can get a token;
  # the condition is written by `retrain infra tfvars` and tested against real claim sets.
  attribute_condition = var.ci_token_condition
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "ci_wif" {
  for_each           = toset(var.candidate_environments)
  service_account_id = google_service_account.accounts["ci"].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.environment/${each.value}"
}

# -- Cloud Build trigger on merge -----------------------------------------------------------

resource "google_cloudbuild_trigger" "merge" {
  count           = var.cloudbuild_repository == "" ? 0 : 1
  name            = "retrain-merge"
  location        = var.region
  filename        = "cloudbuild.yaml"
  service_account = google_service_account.accounts["deployer"].id
  repository_event_config {
    repository = var.cloudbuild_repository
    push {
      branch = var.github_branch
    }
  }
  substitutions = {
    _REGION            = var.region
    _BUCKET            = var.artifact_bucket
    _GITHUB_REPO       = var.github_repo
    _TEMPLATE_REGISTRY = "https://${var.region}-kfp.pkg.dev/${var.project}/${google_artifact_registry_repository.templates.repository_id}"
  }
}
