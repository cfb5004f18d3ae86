variable "project_id" {
  description = "Google Cloud project of the SLO, the alert policies, the channel and the dashboard."
  type        = string
}

variable "project_number" {
  description = "Number of the project, used to name the Monitoring notification service agent (service-<number>@gcp-sa-monitoring-notification.iam.gserviceaccount.com)."
  type        = string
}

variable "region" {
  description = "Cloud Run region of the protected service in production (the SLO counts its requests there)."
  type        = string
}

variable "service_name" {
  description = "Cloud Run service Burnback protects; also the Monitoring service id and the burnback-service user label."
  type        = string
  default     = "api-backend"
}

variable "pipeline_name" {
  description = "Cloud Deploy pipeline that deploys the service (burnback-pipeline user label of the alert policies)."
  type        = string
}

variable "target_name" {
  description = "Cloud Deploy target Burnback rolls back when the alerts fire (burnback-target user label)."
  type        = string
}

variable "incidents_topic" {
  description = "Id of the monitoring-incidents topic (projects/<project>/topics/monitoring-incidents) the notification channel publishes to."
  type        = string
}

variable "burnback_service_names" {
  description = "Cloud Run service names of Burnback's services, keyed ingest, decider, executor, notifier (the decider's, executor's and notifier's logs feed the log-based metrics)."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["decider", "executor", "notifier"] : contains(keys(var.burnback_service_names), key)])
    error_message = "burnback_service_names must have the keys decider, executor and notifier (modules/burnback-services output service_names)."
  }
}

variable "dead_letter_subscription" {
  description = "Subscription that keeps Burnback's dead letters (charted on the dashboard)."
  type        = string
}
