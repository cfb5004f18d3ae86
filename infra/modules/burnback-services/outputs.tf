output "service_names" {
  description = "Cloud Run service name of each Burnback service, keyed ingest, decider, executor, notifier."
  value       = { for key, svc in google_cloud_run_v2_service.service : key => svc.name }
}

output "service_urls" {
  description = "HTTPS URL of each Burnback service, keyed ingest, decider, executor, notifier."
  value       = { for key, svc in google_cloud_run_v2_service.service : key => svc.uri }
}

output "webhook_token_secret" {
  description = "Secret Manager secret holding the webhook token (BURNBACK_WEBHOOK_TOKEN of ingest)."
  value       = google_secret_manager_secret.webhook_token.id
}

output "webhook_url" {
  description = "URL for a Monitoring webhook_tokenauth channel, token included. Sensitive."
  value       = "${google_cloud_run_v2_service.service["ingest"].uri}/webhook/error-budget-alert?auth_token=${random_password.webhook_token.result}"
  sensitive   = true
}

output "config_secret" {
  description = "Secret Manager secret holding the Burnback YAML config mounted into every service."
  value       = google_secret_manager_secret.config.id
}
