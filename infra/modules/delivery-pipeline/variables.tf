variable "project_id" {
  description = "Google Cloud project of the pipeline, its targets and the deployed service."
  type        = string
}

variable "project_number" {
  description = "Number of the project, used to name the Cloud Deploy service agent (service-<number>@gcp-sa-clouddeploy.iam.gserviceaccount.com)."
  type        = string
}

variable "region" {
  description = "Region of the delivery pipeline and its targets, and the Cloud Run region of production."
  type        = string
}

variable "staging_region" {
  description = "Cloud Run region of the staging target (null = same as region). In the same project and region, the skaffold \"staging\" profile must give the service another name."
  type        = string
  default     = null
}

variable "pipeline_name" {
  description = "Name of the Cloud Deploy delivery pipeline."
  type        = string
  default     = "api-backend-pipeline"
}

variable "service_name" {
  description = "Cloud Run service the pipeline deploys (as named by its skaffold/service.yaml)."
  type        = string
  default     = "api-backend"
}

variable "runtime_account_id" {
  description = "Account id of the deployed service's runtime service account."
  type        = string
  default     = "api-backend"
}

variable "execution_account_id" {
  description = "Account id of the Cloud Deploy execution service account."
  type        = string
  default     = "clouddeploy-execution"
}

variable "verify" {
  description = "Run the skaffold verify container after each deployment (staging, and every canary phase). Needs a verify stanza in skaffold.yaml."
  type        = bool
  default     = true
}

variable "production_requires_approval" {
  description = "Require a human approval for rollouts to production. Rollbacks are rollouts too: with this on, Burnback's rollbacks wait for approval."
  type        = bool
  default     = false
}

variable "artifact_retention_days" {
  description = "Days rendered manifests and verify results are kept in the artifact bucket."
  type        = number
  default     = 30
}

variable "rollback_operator" {
  description = "IAM member allowed to roll back the pipeline's targets (Burnback's executor, serviceAccount:<email>)."
  type        = string
}

variable "history_reader" {
  description = "IAM member allowed to read the pipeline's releases and rollouts (Burnback's decider, serviceAccount:<email>): what serves each target comes from Cloud Deploy's history."
  type        = string
}

variable "rollback_targets" {
  description = "Targets the rollback operator may roll back (staging and/or production)."
  type        = list(string)
  default     = ["production"]

  validation {
    condition     = alltrue([for t in var.rollback_targets : contains(["staging", "production"], t)])
    error_message = "rollback_targets may only contain staging and production."
  }
}

variable "operations_topic" {
  description = "Id of the clouddeploy-operations topic (projects/<project>/topics/clouddeploy-operations) Cloud Deploy publishes its operation notifications to."
  type        = string
}

variable "approvals_topic" {
  description = "Id of the clouddeploy-approvals topic (projects/<project>/topics/clouddeploy-approvals) Cloud Deploy publishes its approval notifications to."
  type        = string
}

variable "releasers" {
  description = "IAM members (e.g. your CI's service account) allowed to create releases of the pipeline; they get releaser on the pipeline and actAs on the execution account."
  type        = list(string)
  default     = []
}
