variable "project_id" {
  description = "Google Cloud project the services run in (also their GOOGLE_CLOUD_PROJECT)."
  type        = string
}

variable "region" {
  description = "Cloud Run region of the four services."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the Cloud Run service and secret names (<prefix>-ingest, <prefix>-config, ...)."
  type        = string
  default     = "burnback"
}

variable "service_accounts" {
  description = "Runtime service account email of each service, keyed ingest, decider, executor, notifier (modules/identities output emails)."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["ingest", "decider", "executor", "notifier"] : contains(keys(var.service_accounts), key)])
    error_message = "service_accounts must have the keys ingest, decider, executor and notifier."
  }
}

variable "images" {
  description = "Container image of each service, keyed ingest, decider, executor, notifier (e.g. us-central1-docker.pkg.dev/<project>/burnback/decider:<tag>)."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["ingest", "decider", "executor", "notifier"] : contains(keys(var.images), key)])
    error_message = "images must have the keys ingest, decider, executor and notifier."
  }
}

variable "notifier_secret_env" {
  description = "Secrets of the notifier's destinations: environment variable name (a $${VAR} of the config's notify: block, e.g. PAGERDUTY_ROUTING_KEY) => id of a Secret Manager secret in the project, which must already exist. Only the notifier gets them (version latest) and roles/secretmanager.secretAccessor on each."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.notifier_secret_env) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", name))])
    error_message = "notifier_secret_env keys must be environment variable names (letters, digits and _, not starting with a digit), as $${VAR} in the config names them."
  }

  validation {
    condition     = length(setintersection(keys(var.notifier_secret_env), ["GOOGLE_CLOUD_PROJECT", "BURNBACK_CONFIG", "LOG_LEVEL", "PORT"])) == 0
    error_message = "notifier_secret_env must not set GOOGLE_CLOUD_PROJECT, BURNBACK_CONFIG, LOG_LEVEL or PORT, which the module (or Cloud Run) sets."
  }

  validation {
    condition     = alltrue([for secret in values(var.notifier_secret_env) : can(regex("^[A-Za-z0-9_-]{1,255}$", secret))])
    error_message = "notifier_secret_env values must be Secret Manager secret ids (letters, digits, _ and -), not secret values."
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
  description = "CPU limit of each instance (Cloud Run syntax): \"1\" or \"2\". Always-allocated CPU needs at least 1, and the services' 256Mi memory limit (packages/platform/src/service-runtime.ts) allows at most 2."
  type        = string
  default     = "1"

  validation {
    condition     = contains(["1", "2"], var.cpu)
    error_message = "cpu must be \"1\" or \"2\": always-allocated CPU needs at least 1 vCPU, and 4 or more need at least 2Gi of memory."
  }
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
