output "slo" {
  description = "Resource name of the availability SLO, for select_slo_burn_rate(\"<this>\", \"3600s\")."
  value       = google_monitoring_slo.availability.name
}

output "notification_channel" {
  description = "Resource name of the Pub/Sub notification channel to Burnback; add it to any other alert policy Burnback should act on."
  value       = google_monitoring_notification_channel.burnback.id
}

output "alert_policies" {
  description = "Resource names of the burn-rate alert policies, keyed fast and slow."
  value = {
    fast = google_monitoring_alert_policy.fast_burn.name
    slow = google_monitoring_alert_policy.slow_burn.name
  }
}

output "dashboard" {
  description = "Resource name of the Burnback dashboard."
  value       = google_monitoring_dashboard.burnback.id
}
