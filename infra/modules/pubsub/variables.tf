variable "project_id" {
  description = "Google Cloud project that owns the topics and subscriptions."
  type        = string
}

variable "project_number" {
  description = "Number of the project, used to name the Pub/Sub service agent (service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com) that forwards dead letters."
  type        = string
}

variable "service_accounts" {
  description = "Service account email of each Burnback service, keyed ingest, decider, executor, notifier (modules/identities output emails)."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["ingest", "decider", "executor", "notifier"] : contains(keys(var.service_accounts), key)])
    error_message = "service_accounts must have the keys ingest, decider, executor and notifier."
  }
}

variable "ack_deadline_seconds" {
  description = "Ack deadline of the worker subscriptions, in seconds (10-600). The client library extends it while a handler runs."
  type        = number
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "minimum_backoff" {
  description = "Shortest delay before Pub/Sub redelivers a nacked message (retry policy), e.g. \"10s\"."
  type        = string
  default     = "10s"
}

variable "maximum_backoff" {
  description = "Longest delay before Pub/Sub redelivers a nacked message (retry policy), at most \"600s\"."
  type        = string
  default     = "600s"
}

variable "max_delivery_attempts" {
  description = "Deliveries of one message before Pub/Sub forwards it to burnback-dead-letter (5-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}
