# The Cloud Deploy delivery pipeline Burnback rolls back: staging, then
# production with a canary (25 % -> 50 % -> 100 %) and verification; both
# targets are Cloud Run.

locals {
  staging_region = coalesce(var.staging_region, var.region)

  execution_roles = toset([
    "roles/clouddeploy.jobRunner", # run render/deploy/verify jobs
    "roles/run.developer",         # create and update the Cloud Run service
    "roles/logging.logWriter",     # write the Cloud Build logs of those jobs
  ])

  cloud_deploy_service_agent = "serviceAccount:service-${var.project_number}@gcp-sa-clouddeploy.iam.gserviceaccount.com"
}

# --- Identities ------------------------------------------------------------------

# What the deployed service runs as (its Cloud Run service identity).
resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = var.runtime_account_id
  display_name = "${var.service_name} runtime"
  description  = "Runtime identity of the ${var.service_name} Cloud Run service deployed by ${var.pipeline_name}."
}

# What Cloud Deploy renders, deploys and verifies as (instead of the default
# Compute Engine service account and its Editor role).
resource "google_service_account" "execution" {
  project      = var.project_id
  account_id   = var.execution_account_id
  display_name = "Cloud Deploy execution for ${var.pipeline_name}"
  description  = "Renders, deploys and verifies releases of ${var.pipeline_name}."
}

resource "google_project_iam_member" "execution" {
  for_each = local.execution_roles

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.execution.email}"
}

# Deploying a Cloud Run service that runs as the runtime account needs actAs on it.
resource "google_service_account_iam_member" "execution_acts_as_runtime" {
  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.execution.email}"
}

# --- Artifacts (rendered manifests, verify results), kept 30 days ----------------

resource "google_storage_bucket" "artifacts" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.pipeline_name}-artifacts"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = var.artifact_retention_days
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_iam_member" "execution_artifacts" {
  for_each = toset(["roles/storage.objectAdmin", "roles/storage.legacyBucketReader"])

  bucket = google_storage_bucket.artifacts.name
  role   = each.value
  member = "serviceAccount:${google_service_account.execution.email}"
}

# --- Targets and pipeline ----------------------------------------------------------

resource "google_clouddeploy_target" "staging" {
  project     = var.project_id
  location    = var.region
  name        = "staging"
  description = "Staging: ${var.service_name} on Cloud Run in ${local.staging_region}."

  require_approval = false

  run {
    location = "projects/${var.project_id}/locations/${local.staging_region}"
  }

  execution_configs {
    usages           = ["RENDER", "DEPLOY", "VERIFY"]
    service_account  = google_service_account.execution.email
    artifact_storage = "gs://${google_storage_bucket.artifacts.name}"
  }
}

resource "google_clouddeploy_target" "production" {
  project     = var.project_id
  location    = var.region
  name        = "production"
  description = "Production: ${var.service_name} on Cloud Run in ${var.region}; Burnback rolls this target back."

  # Approval applies to every rollout on the target, rollbacks included: with
  # it on, a Burnback rollback waits for a human to approve it.
  require_approval = var.production_requires_approval

  run {
    location = "projects/${var.project_id}/locations/${var.region}"
  }

  execution_configs {
    usages           = ["RENDER", "DEPLOY", "VERIFY"]
    service_account  = google_service_account.execution.email
    artifact_storage = "gs://${google_storage_bucket.artifacts.name}"
  }
}

resource "google_clouddeploy_delivery_pipeline" "pipeline" {
  project     = var.project_id
  location    = var.region
  name        = var.pipeline_name
  description = "${var.service_name}: staging, then production with a 25/50/100 canary. Rolled back by Burnback when it burns its SLO error budget too fast."

  serial_pipeline {
    stages {
      target_id = google_clouddeploy_target.staging.name
      profiles  = ["staging"]

      strategy {
        standard {
          verify = var.verify
        }
      }
    }

    stages {
      target_id = google_clouddeploy_target.production.name
      profiles  = ["production"]

      strategy {
        canary {
          runtime_config {
            cloud_run {
              automatic_traffic_control = true
            }
          }

          # 25 % then 50 %; the stable phase that follows is the 100 %.
          # (Cloud Deploy takes percentages below 100 only.)
          canary_deployment {
            percentages = [25, 50]
            verify      = var.verify
          }
        }
      }
    }
  }
}

# --- Burnback's executor: roll back, and only that -------------------------------

# Operator on this pipeline (its releases and rollouts) and on the targets it
# may roll back, not on the project. RollbackTarget creates a rollout, which
# needs actAs on the execution account; the rollout deploys a revision that
# runs as the runtime account, hence actAs on that too. No other Burnback
# identity gets either.
resource "google_clouddeploy_delivery_pipeline_iam_member" "rollback_operator" {
  project  = var.project_id
  location = var.region
  name     = google_clouddeploy_delivery_pipeline.pipeline.name
  role     = "roles/clouddeploy.operator"
  member   = var.rollback_operator
}

resource "google_clouddeploy_target_iam_member" "rollback_operator" {
  for_each = toset(var.rollback_targets)

  project  = var.project_id
  location = var.region
  name     = each.value == "staging" ? google_clouddeploy_target.staging.name : google_clouddeploy_target.production.name
  role     = "roles/clouddeploy.operator"
  member   = var.rollback_operator
}

resource "google_service_account_iam_member" "rollback_operator_acts_as_execution" {
  service_account_id = google_service_account.execution.name
  role               = "roles/iam.serviceAccountUser"
  member             = var.rollback_operator
}

resource "google_service_account_iam_member" "rollback_operator_acts_as_runtime" {
  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.serviceAccountUser"
  member             = var.rollback_operator
}

# --- Burnback's decider: read the history, nothing else ------------------------------

# Viewer on this pipeline: the decider reads its rollouts (ListRollouts,
# GetRollout) and releases to know what serves each target since when. It never
# changes anything in Cloud Deploy.
resource "google_clouddeploy_delivery_pipeline_iam_member" "history_reader" {
  project  = var.project_id
  location = var.region
  name     = google_clouddeploy_delivery_pipeline.pipeline.name
  role     = "roles/clouddeploy.viewer"
  member   = var.history_reader
}

# --- Cloud Deploy's own notifications ----------------------------------------------

# Cloud Deploy publishes operation notifications to the project's topic named
# clouddeploy-operations, and approval notifications to clouddeploy-approvals
# (both created in modules/pubsub), as its service agent. The agent's own role
# normally covers this; granting publish on the topics makes it explicit and
# survives an org policy that trims the agent's role. The agent appears on the
# first Cloud Deploy API call, hence the dependency.
resource "google_pubsub_topic_iam_member" "cloud_deploy_operations_publisher" {
  project = var.project_id
  topic   = var.operations_topic
  role    = "roles/pubsub.publisher"
  member  = local.cloud_deploy_service_agent

  depends_on = [google_clouddeploy_delivery_pipeline.pipeline]
}

resource "google_pubsub_topic_iam_member" "cloud_deploy_approvals_publisher" {
  project = var.project_id
  topic   = var.approvals_topic
  role    = "roles/pubsub.publisher"
  member  = local.cloud_deploy_service_agent

  depends_on = [google_clouddeploy_delivery_pipeline.pipeline]
}

# --- Whoever cuts releases (CI) ------------------------------------------------------

resource "google_clouddeploy_delivery_pipeline_iam_member" "releaser" {
  for_each = toset(var.releasers)

  project  = var.project_id
  location = var.region
  name     = google_clouddeploy_delivery_pipeline.pipeline.name
  role     = "roles/clouddeploy.releaser"
  member   = each.value
}

resource "google_service_account_iam_member" "releaser_acts_as_execution" {
  for_each = toset(var.releasers)

  service_account_id = google_service_account.execution.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
}
