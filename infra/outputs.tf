output "workload_identity_provider" {
  description = "GitHub variable GCP_WORKLOAD_IDENTITY_PROVIDER."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "ci_service_account" {
  description = "GitHub variable GCP_CI_SERVICE_ACCOUNT."
  value       = google_service_account.accounts["ci"].email
}

output "log_sink_writers" {
  description = "Writer identity of each log sink (granted publisher on its topic)."
  value       = { for name, sink in google_logging_project_sink.events : name => sink.writer_identity }
}

output "template_registry" {
  description = "RETRAIN_TEMPLATE_REGISTRY / cloudbuild _TEMPLATE_REGISTRY."
  value       = "https://${var.region}-kfp.pkg.dev/${var.project}/${google_artifact_registry_repository.templates.repository_id}"
}
