# Burnback's four services on Cloud Run. They are Pub/Sub *pull* subscribers
# (streaming pull, ack after the handler succeeded), so each runs with CPU
# always allocated and at least one warm instance; see README.md for why.

locals {
  config_dir  = "/etc/burnback"
  config_file = "config.yaml"

  # memory: each container's limit, ServiceRuntime[<service>].memoryMiB in
  # packages/platform/src/service-runtime.ts (infra/test checks the two agree).
  # The image bounds the service's heap to fit it (NODE_OPTIONS in the
  # Dockerfile: --max-old-space-size=128 --max-semi-space-size=4).
  services = {
    ingest = {
      name        = "${var.name_prefix}-ingest"
      description = "Burnback ingest: Monitoring notifications (Pub/Sub pull and webhook) in, alerts out; management API."
      ingress     = "INGRESS_TRAFFIC_ALL"
      memory      = "256Mi"
      webhook     = true
    }
    decider = {
      name        = "${var.name_prefix}-decider"
      description = "Burnback decider: alerts, progress and deploy events in, rollback decisions and commands out."
      ingress     = "INGRESS_TRAFFIC_INTERNAL_ONLY"
      memory      = "256Mi"
      webhook     = false
    }
    executor = {
      name        = "${var.name_prefix}-executor"
      description = "Burnback executor: rollback commands in, Cloud Deploy rollbacks, progress out."
      ingress     = "INGRESS_TRAFFIC_INTERNAL_ONLY"
      memory      = "256Mi"
      webhook     = false
    }
    # Only outbound HTTPS (PagerDuty, Slack, Google Chat, webhooks): nothing calls it.
    notifier = {
      name        = "${var.name_prefix}-notifier"
      description = "Burnback notifier: decisions and rollback progress in, pages, chat messages and webhooks out."
      ingress     = "INGRESS_TRAFFIC_INTERNAL_ONLY"
      memory      = "256Mi"
      webhook     = false
    }
  }

  # Project-level roles; Firestore and Monitoring have no finer resource to grant on.
  project_roles = {
    "ingest/datastore"   = { who = "ingest", role = "roles/datastore.user" }
    "decider/datastore"  = { who = "decider", role = "roles/datastore.user" }
    "executor/datastore" = { who = "executor", role = "roles/datastore.user" }
    "notifier/datastore" = { who = "notifier", role = "roles/datastore.user" } # deliveries/{id}
    # select_slo_burn_rate reads (timeSeries.list) before acting on a late or replayed alert.
    "decider/monitoring" = { who = "decider", role = "roles/monitoring.viewer" }
  }
}

# --- Secrets -----------------------------------------------------------------

# The webhook token is generated here and only ever lives in Secret Manager
# (and in the Terraform state, which is why the state belongs in a private
# bucket); it is never a variable, so it can never end up in a tfvars file.
resource "random_password" "webhook_token" {
  length  = 48
  special = false # it travels in a query string: ?auth_token=...
}

resource "google_secret_manager_secret" "webhook_token" {
  project   = var.project_id
  secret_id = "${var.name_prefix}-webhook-token"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "webhook_token" {
  secret      = google_secret_manager_secret.webhook_token.id
  secret_data = random_password.webhook_token.result
}

# BURNBACK_CONFIG is a path to a YAML file. Cloud Run mounts this secret as
# that file, so the config is versioned, and a new version rolls a new revision.
resource "google_secret_manager_secret" "config" {
  project   = var.project_id
  secret_id = "${var.name_prefix}-config"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "config" {
  secret      = google_secret_manager_secret.config.id
  secret_data = var.config_yaml
}

resource "google_secret_manager_secret_iam_member" "config_reader" {
  for_each = local.services

  project   = var.project_id
  secret_id = google_secret_manager_secret.config.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_accounts[each.key]}"
}

resource "google_secret_manager_secret_iam_member" "webhook_token_reader" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.webhook_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_accounts["ingest"]}"
}

# The notifier's destinations' secrets (the ${VAR}s of the config's notify:
# block): created by the operator, never by Terraform, so their values are in
# neither tfvars nor the state. One grant per secret, to the notifier only.
resource "google_secret_manager_secret_iam_member" "notifier_secret_reader" {
  for_each = toset(values(var.notifier_secret_env))

  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_accounts["notifier"]}"
}

# --- Project roles -------------------------------------------------------------

resource "google_project_iam_member" "service" {
  for_each = local.project_roles

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${var.service_accounts[each.value.who]}"
}

# --- Cloud Run -----------------------------------------------------------------

resource "google_cloud_run_v2_service" "service" {
  for_each = local.services

  project             = var.project_id
  location            = var.region
  name                = each.value.name
  description         = each.value.description
  ingress             = each.value.ingress
  deletion_protection = var.deletion_protection

  template {
    service_account                  = var.service_accounts[each.key]
    max_instance_request_concurrency = 80
    timeout                          = "300s"
    # First generation: it takes a memory limit below 512Mi (the second
    # generation's minimum), and unset Cloud Run may choose either.
    execution_environment = "EXECUTION_ENVIRONMENT_GEN1"

    # Pull subscribers must always be running: at least one instance, never scaled to zero.
    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    volumes {
      name = "burnback-config"
      secret {
        secret       = google_secret_manager_secret.config.secret_id
        default_mode = 292 # 0444
        items {
          # Pinned, not "latest": a config change deploys a new revision.
          version = google_secret_manager_secret_version.config.version
          path    = local.config_file
        }
      }
    }

    containers {
      image = var.images[each.key]

      resources {
        limits = {
          cpu    = var.cpu
          memory = each.value.memory
        }
        # CPU always allocated: streaming pull and the outbox relay work
        # between requests, which request-based CPU would throttle to zero.
        cpu_idle          = false
        startup_cpu_boost = true
      }

      env {
        name  = "GOOGLE_CLOUD_PROJECT"
        value = var.project_id
      }
      env {
        name  = "BURNBACK_CONFIG"
        value = "${local.config_dir}/${local.config_file}"
      }
      env {
        name  = "LOG_LEVEL"
        value = var.log_level
      }

      dynamic "env" {
        for_each = each.value.webhook ? [google_secret_manager_secret_version.webhook_token.version] : []
        content {
          name = "BURNBACK_WEBHOOK_TOKEN"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.webhook_token.secret_id
              version = env.value
            }
          }
        }
      }

      # The notifier's destination secrets, one env var each; "latest", so a new
      # secret version is read by the next instance that starts.
      dynamic "env" {
        for_each = each.key == "notifier" ? var.notifier_secret_env : {}
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }

      volume_mounts {
        name       = "burnback-config"
        mount_path = local.config_dir
      }

      startup_probe {
        tcp_socket {}
        period_seconds    = 5
        failure_threshold = 24
      }

      liveness_probe {
        http_get {
          path = var.health_path
        }
        period_seconds    = 30
        timeout_seconds   = 5
        failure_threshold = 3
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.config_reader,
    google_secret_manager_secret_iam_member.webhook_token_reader,
    google_secret_manager_secret_iam_member.notifier_secret_reader,
    google_project_iam_member.service,
  ]
}

# The management API and the webhook are on ingest only. Invokers are named
# explicitly; allUsers only when a Monitoring webhook channel must reach it
# (Monitoring cannot send an identity token; the webhook checks auth_token).
resource "google_cloud_run_v2_service_iam_member" "ingest_invoker" {
  for_each = toset(concat(var.ingest_invokers, var.ingest_allow_unauthenticated ? ["allUsers"] : []))

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service["ingest"].name
  role     = "roles/run.invoker"
  member   = each.value
}
