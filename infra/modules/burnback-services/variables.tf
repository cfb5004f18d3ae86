variable "project_id" {
  description = "Google Cloud project the services run in (also their GOOGLE_CLOUD_PROJECT)."
  type        = string
}

variable "region" {
  description = "Cloud Run region of the three services."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the Cloud Run service and secret names (<prefix>-ingest, <prefix>-config, ...)."
  type        = string
  default     = "burnback"
}

variable "service_accounts" {
  description = "Runtime service account email of each service, keyed ingest, decider, executor (modules/identities output emails)."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["ingest", "decider", "executor"] : contains(keys(var.service_accounts), key)])
    error_message = "service_accounts must have the keys ingest, decider and executor."
  }
}

variable "images" {
  description = "Container image of each service, keyed ingest, decider, executor (e.g. us-central1-docker.pkg.dev/<project>/burnback/decider:<tag>)."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["ingest", "decider", "executor"] : contains(keys(var.images), key)])
    error_message = "images must have the keys ingest, decider and executor."
  }
}

variable "config_yaml" {
  description = "Content of the Burnback YAML config (services -> pipeline/target/region, policy), mounted at the path in BURNBACK_CONFIG. Not secret, but kept in Secret Manager so Cloud Run can mount it as a file."
  type        = string
}

variable "min_instances" {
  description = "Minimum instances per service. Pull subscribers need at least 1, or nothing consumes the subscriptions."
  type        = number
  default     = 1

  validation {
    condition     = var.min_instances >= 1
    error_message = "min_instances must be at least 1: the services are pull subscribers and must always run."
  }
}

variable "max_instances" {
  description = "Maximum instances per service. Any number is safe (per-service decisions are serialised in Firestore); a few is plenty."
  type        = number
  default     = 3
}

variable "cpu" {
  description = "CPU limit of each instance (Cloud Run syntax, e.g. \"1\")."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory limit of each instance (Cloud Run syntax, e.g. \"512Mi\")."
  type        = string
  default     = "512Mi"
}

variable "log_level" {
  description = "LOG_LEVEL of the services: debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "health_path" {
  description = "HTTP path every service answers on $PORT while healthy (liveness probe)."
  type        = string
  default     = "/healthz"
}

variable "ingest_invokers" {
  description = "IAM members allowed to call the ingest HTTP API (management routes), e.g. [\"group:sre@example.com\"]."
  type        = list(string)
  default     = []
}

variable "ingest_allow_unauthenticated" {
  description = "Let anyone reach ingest over HTTP (roles/run.invoker for allUsers). Only needed for a Monitoring webhook channel, which cannot authenticate to Cloud Run; the webhook still checks its auth_token. The Pub/Sub channel needs no HTTP access."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to destroy the Cloud Run services from Terraform."
  type        = bool
  default     = true
}
