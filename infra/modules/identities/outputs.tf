output "emails" {
  description = "Service account email of each Burnback service, keyed ingest, decider, executor, notifier."
  value       = { for key, sa in google_service_account.burnback : key => sa.email }
}

output "members" {
  description = "IAM member string (serviceAccount:<email>) of each Burnback service, keyed ingest, decider, executor, notifier."
  value       = { for key, sa in google_service_account.burnback : key => "serviceAccount:${sa.email}" }
}
