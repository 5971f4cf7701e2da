# Candidate runs (a pull request's code) kept apart from production. The CI identity that
# GitHub Actions gets through Workload Identity Federation may:
#   - write objects only under candidates/ (templates) and pipelines/candidates/ (run roots),
#     never production templates, pipeline roots, serving models or releases/latest.json;
#   - push images only to the retrain-candidates repository, never to the production one
#     (whose tags are immutable besides);
#   - start runs only as the candidate pipeline account, which can write only under
#     pipelines/candidates/ and cannot act as any other account.

locals {
  bucket_objects = "projects/_/buckets/${var.artifact_bucket}/objects"
  candidate_prefixes = {
    templates = "candidates/"
    runs      = "pipelines/candidates/"
  }
}

resource "google_artifact_registry_repository" "candidate_images" {
  repository_id = "retrain-candidates"
  location      = var.region
  format        = "DOCKER"
  description   = "Pipeline images built from pull requests (candidate runs only)."
  depends_on    = [google_project_service.apis]
}

resource "google_artifact_registry_repository_iam_member" "ci_push_candidates" {
  location   = google_artifact_registry_repository.candidate_images.location
  repository = google_artifact_registry_repository.candidate_images.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.accounts["ci"].email}"
}

resource "google_service_account" "candidate_runs" {
  account_id   = "retrain-candidate-runs"
  display_name = "retrain candidate runs (pull requests)"
}

resource "google_project_iam_member" "candidate_runs" {
  for_each = toset([
    "roles/aiplatform.user", "roles/bigquery.jobUser", "roles/bigquery.dataViewer",
    "roles/logging.logWriter",
  ])
  project = var.project
  role    = each.value
  member  = "serviceAccount:${google_service_account.candidate_runs.email}"
}

resource "google_storage_bucket_iam_member" "ci_candidates" {
  for_each = local.candidate_prefixes
  bucket   = google_storage_bucket.artifacts.name
  role     = "roles/storage.objectAdmin"
  member   = "serviceAccount:${google_service_account.accounts["ci"].email}"
  condition {
    title      = "ci-${each.key}"
    expression = "resource.name.startsWith(\"${local.bucket_objects}/${each.value}\")"
  }
}

resource "google_storage_bucket_iam_member" "candidate_runs_root" {
  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.candidate_runs.email}"
  condition {
    title      = "candidate-runs-root"
    expression = "resource.name.startsWith(\"${local.bucket_objects}/${local.candidate_prefixes.runs}\")"
  }
}

resource "google_service_account_iam_member" "ci_as_candidate_runs" {
  service_account_id = google_service_account.candidate_runs.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.accounts["ci"].email}"
}
