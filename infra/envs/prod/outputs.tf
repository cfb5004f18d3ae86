output "ingest_url" {
  description = "URL of Burnback's ingest service (management API; POST /webhook/error-budget-alert)."
  value       = module.burnback_services.service_urls["ingest"]
}

output "webhook_url" {
  description = "URL for a Monitoring webhook_tokenauth channel, token included (terraform output -raw webhook_url). Sensitive."
  value       = module.burnback_services.webhook_url
  sensitive   = true
}

output "service_names" {
  description = "Cloud Run service name of each Burnback service, keyed ingest, decider, executor, notifier (e.g. gcloud run services logs read <name>)."
  value       = module.burnback_services.service_names
}

output "service_accounts" {
  description = "Service account email of each Burnback service, keyed ingest, decider, executor, notifier."
  value       = module.identities.emails
}

output "pipeline" {
  description = "Resource name of the Cloud Deploy delivery pipeline."
  value       = module.delivery_pipeline.pipeline_id
}

output "runtime_service_account" {
  description = "Service account api-backend must run as (serviceAccountName in its service.yaml)."
  value       = module.delivery_pipeline.runtime_service_account
}

output "slo" {
  description = "Resource name of the availability SLO (for select_slo_burn_rate)."
  value       = module.monitoring.slo
}

output "notification_channel" {
  description = "Pub/Sub notification channel to Burnback; add it to any other alert policy Burnback should act on."
  value       = module.monitoring.notification_channel
}

output "topics" {
  description = "Burnback's Pub/Sub topic ids keyed by name."
  value       = module.pubsub.topic_ids
}

output "dashboard_url" {
  description = "Console URL of the Burnback dashboard."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${element(split("/", module.monitoring.dashboard), 3)}?project=${var.project_id}"
}
