variable "project_id" {
  description = "Google Cloud project Burnback, the pipeline and the protected service live in."
  type        = string
}

variable "region" {
  description = "Region of Burnback's Cloud Run services, the Cloud Deploy pipeline and the production target."
  type        = string
  default     = "us-central1"
}

variable "staging_region" {
  description = "Cloud Run region of the staging target (null = region; then the skaffold staging profile must rename the service)."
  type        = string
  default     = null
}

variable "firestore_location" {
  description = "Location of the Firestore database (multi-region nam5/eur3 or a region). Fixed once created."
  type        = string
  default     = "nam5"
}

variable "api_service_name" {
  description = "Cloud Run service Burnback protects (the SLO's service and the burnback-service label)."
  type        = string
  default     = "api-backend"
}

variable "ingest_image" {
  description = "Container image of services/ingest."
  type        = string
}

variable "decider_image" {
  description = "Container image of services/decider."
  type        = string
}

variable "executor_image" {
  description = "Container image of services/executor."
  type        = string
}

variable "notifier_image" {
  description = "Container image of services/notifier."
  type        = string
}

variable "notifier_secret_env" {
  description = "Secrets of the notifier's destinations: environment variable name (a $${VAR} of the config's notify: block) => id of an existing Secret Manager secret, e.g. { PAGERDUTY_ROUTING_KEY = \"burnback-pagerduty-routing-key\" }. Only the notifier reads them."
  type        = map(string)
  default     = {}
}

variable "burnback_config_yaml" {
  description = "Full Burnback YAML config (BURNBACK_CONFIG) to use instead of the generated one, e.g. file(\"burnback.yaml\"); null = protect api_service_name on the production target with default policy."
  type        = string
  default     = null
}

variable "max_instances" {
  description = "Maximum Cloud Run instances per Burnback service (the minimum is always 1)."
  type        = number
  default     = 3
}

variable "log_level" {
  description = "LOG_LEVEL of Burnback's services: debug, info, warn or error."
  type        = string
  default     = "info"
}

variable "ingest_invokers" {
  description = "IAM members allowed to call ingest's HTTP management API, e.g. [\"group:sre@example.com\"]."
  type        = list(string)
  default     = []
}

variable "ingest_allow_unauthenticated" {
  description = "Open ingest to unauthenticated HTTP (only for a Monitoring webhook channel; the Pub/Sub channel does not need it)."
  type        = bool
  default     = false
}

variable "production_requires_approval" {
  description = "Require approval for rollouts to production. Burnback's rollbacks are rollouts too and would wait for it."
  type        = bool
  default     = false
}

variable "releasers" {
  description = "IAM members (e.g. your CI service account) allowed to create releases of api-backend-pipeline."
  type        = list(string)
  default     = []
}
