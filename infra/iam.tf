# Every grant to our service accounts, from iam.json: the contract tests/iam checks against the
# API methods each account's code calls (tests/iam/calls.py).

resource "google_service_account" "build" {
  account_id   = var.build_service_account
  display_name = "retrain function builds"
}

locals {
  iam = jsondecode(file("${path.module}/iam.json"))
  emails = merge({ for k, a in google_service_account.accounts : k => a.email }, {
    build = google_service_account.build.email, candidate_runs = google_service_account.candidate_runs.email
  })
  names = merge({ for k, a in google_service_account.accounts : k => a.name }, {
    build = google_service_account.build.name, candidate_runs = google_service_account.candidate_runs.name
  })
  grants = { for g in local.iam.grants : "${g.account} ${g.role} ${g.scope}" => g }
  # datasets: watched datasets in other projects; all_datasets: every watched dataset.
  dataset_grants = merge(
    {
      for pair in setproduct([for k, g in local.grants : k if g.scope == "datasets"], var.watched_datasets) :
      "${pair[0]} ${pair[1].project}.${pair[1].dataset}" => merge(local.grants[pair[0]], pair[1])
    },
    {
      for pair in setproduct([for k, g in local.grants : k if g.scope == "all_datasets"], var.all_watched_datasets) :
      "${pair[0]} ${pair[1].project}.${pair[1].dataset}" => merge(local.grants[pair[0]], pair[1])
    },
  )
  # "custom:ID" in iam.json: the custom role below.
  custom_roles = { for k, r in google_project_iam_custom_role.roles : "custom:${k}" => r.name }
}

# Custom roles (iam.json custom_roles): exactly the permissions listed, where a predefined role
# would carry more (the identities that run pull requests' code: tests/iam/test_pr_identities.py).
resource "google_project_iam_custom_role" "roles" {
  for_each    = local.iam.custom_roles
  project     = var.project
  role_id     = each.key
  title       = each.value.title
  description = each.value.description
  permissions = each.value.permissions
}

resource "google_project_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if g.scope == "project" }
  project  = var.project
  role     = lookup(local.custom_roles, each.value.role, each.value.role)
  member   = "serviceAccount:${local.emails[each.value.account]}"
}

# bucket: the whole artefact bucket; bucket:PREFIX: objects under PREFIX only (an IAM condition).
resource "google_storage_bucket_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if startswith(g.scope, "bucket") }
  bucket   = google_storage_bucket.artifacts.name
  role     = lookup(local.custom_roles, each.value.role, each.value.role)
  member   = "serviceAccount:${local.emails[each.value.account]}"
  dynamic "condition" {
    for_each = each.value.scope == "bucket" ? [] : [trimprefix(each.value.scope, "bucket:")]
    content {
      title      = "retrain-${each.value.account}-${replace(condition.value, "/", "")}"
      expression = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.artifacts.name}/objects/${condition.value}\")"
    }
  }
}

resource "google_service_account_iam_member" "grants" {
  for_each           = { for k, g in local.grants : k => g if startswith(g.scope, "service_account:") }
  service_account_id = local.names[trimprefix(each.value.scope, "service_account:")]
  role               = lookup(local.custom_roles, each.value.role, each.value.role)
  member             = "serviceAccount:${local.emails[each.value.account]}"
}

resource "google_secret_manager_secret_iam_member" "grants" {
  for_each  = { for k, g in local.grants : k => g if g.scope == "secret:github" }
  secret_id = google_secret_manager_secret.github.id
  role      = lookup(local.custom_roles, each.value.role, each.value.role)
  member    = "serviceAccount:${local.emails[each.value.account]}"
}

resource "google_artifact_registry_repository_iam_member" "grants" {
  for_each   = { for k, g in local.grants : k => g if g.scope == "repository:templates" }
  location   = google_artifact_registry_repository.templates.location
  repository = google_artifact_registry_repository.templates.name
  role       = lookup(local.custom_roles, each.value.role, each.value.role)
  member     = "serviceAccount:${local.emails[each.value.account]}"
}

# repository:images: the pipeline image's repository; Dataflow workers pull it as their account.
resource "google_artifact_registry_repository_iam_member" "image_grants" {
  for_each   = { for k, g in local.grants : k => g if g.scope == "repository:images" }
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = lookup(local.custom_roles, each.value.role, each.value.role)
  member     = "serviceAccount:${local.emails[each.value.account]}"
}

resource "google_artifact_registry_repository_iam_member" "candidate_grants" {
  for_each   = { for k, g in local.grants : k => g if g.scope == "repository:candidates" }
  location   = google_artifact_registry_repository.candidate_images.location
  repository = google_artifact_registry_repository.candidate_images.name
  role       = lookup(local.custom_roles, each.value.role, each.value.role)
  member     = "serviceAccount:${local.emails[each.value.account]}"
}

# topic:KIND: one of our event topics (var.topics), e.g. the completion function publishing a
# run's anomalies to the drift-alert topic.
resource "google_pubsub_topic_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if startswith(g.scope, "topic:") }
  topic    = google_pubsub_topic.events[trimprefix(each.value.scope, "topic:")].id
  role     = lookup(local.custom_roles, each.value.role, each.value.role)
  member   = "serviceAccount:${local.emails[each.value.account]}"
}

resource "google_bigquery_dataset_iam_member" "grants" {
  for_each   = local.dataset_grants
  project    = each.value.project
  dataset_id = each.value.dataset
  role       = lookup(local.custom_roles, each.value.role, each.value.role)
  member     = "serviceAccount:${local.emails[each.value.account]}"
}

# dataset:KEY: one of the temporary datasets of the BigQuery reads (main.tf, google_bigquery_dataset.temp).
resource "google_bigquery_dataset_iam_member" "temp_grants" {
  for_each   = { for k, g in local.grants : k => g if startswith(g.scope, "dataset:") }
  dataset_id = google_bigquery_dataset.temp[trimprefix(each.value.scope, "dataset:")].dataset_id
  role       = lookup(local.custom_roles, each.value.role, each.value.role)
  member     = "serviceAccount:${local.emails[each.value.account]}"
}

# The event records' expiry field: Firestore deletes records past `expire_at` (retrain.state).
resource "google_firestore_field" "event_expiry" {
  database   = google_firestore_database.state.name
  collection = "retrain-events"
  field      = "expire_at"
  ttl_config {}
  index_config {}
}
