variable "project_id" {
  description = "Google Cloud project that owns the service accounts."
  type        = string
}

variable "account_prefix" {
  description = "Prefix of the service account ids; the accounts are <prefix>-ingest, <prefix>-decider, <prefix>-executor and <prefix>-notifier."
  type        = string
  default     = "burnback"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,20}$", var.account_prefix))
    error_message = "account_prefix must be 5-21 lowercase letters, digits or hyphens, starting with a letter (service account ids are at most 30 characters)."
  }
}
