output "pipeline_name" {
  description = "Name of the delivery pipeline."
  value       = google_clouddeploy_delivery_pipeline.pipeline.name
}

output "pipeline_id" {
  description = "Resource name of the delivery pipeline (projects/<project>/locations/<region>/deliveryPipelines/<name>)."
  value       = google_clouddeploy_delivery_pipeline.pipeline.id
}

output "production_target" {
  description = "Id of the production target (the one Burnback rolls back)."
  value       = google_clouddeploy_target.production.name
}

output "staging_target" {
  description = "Id of the staging target."
  value       = google_clouddeploy_target.staging.name
}

output "runtime_service_account" {
  description = "Email of the deployed service's runtime service account (set it as serviceAccountName in service.yaml)."
  value       = google_service_account.runtime.email
}

output "execution_service_account" {
  description = "Email of the Cloud Deploy execution service account."
  value       = google_service_account.execution.email
}

output "artifact_bucket" {
  description = "Bucket of Cloud Deploy's rendered manifests and verify results."
  value       = google_storage_bucket.artifacts.name
}
