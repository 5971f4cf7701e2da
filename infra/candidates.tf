# Candidate runs (a pull request's code) kept apart from production. The CI identity that
# GitHub Actions gets through Workload Identity Federation may:
#   - write objects only under candidates/ (templates) and pipelines/candidates/ (run roots),
#     never production templates, pipeline roots, serving models or releases/latest.json;
#   - push images only to the retrain-candidates repository, never to the production one
#     (whose tags are immutable besides);
#   - start runs only as the candidate pipeline account, which can write only under
#     pipelines/candidates/ and cannot act as any other account.
# The grants themselves are in infra/iam.json (checked by tests/iam against tests/iam/calls.py).

resource "google_artifact_registry_repository" "candidate_images" {
  repository_id = "retrain-candidates"
  location      = var.region
  format        = "DOCKER"
  description   = "Pipeline images built from pull requests (candidate runs only)."
  depends_on    = [google_project_service.apis]
}

resource "google_service_account" "candidate_runs" {
  account_id   = "retrain-candidate-runs"
  display_name = "retrain candidate runs (pull requests)"
}
