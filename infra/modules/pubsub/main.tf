# Burnback's Pub/Sub topology. The names are the ones every part of Burnback
# agrees on (packages/contracts/src/names.ts: Topics and Subscriptions);
# infra/test/infra.test.ts fails when the two disagree.

locals {
  # Every topic Burnback uses. Google-managed publishers are granted
  # separately: the Monitoring notification service agent on
  # monitoring-incidents (modules/monitoring), the Cloud Deploy service agent
  # on clouddeploy-operations and clouddeploy-approvals
  # (modules/delivery-pipeline) and the Pub/Sub service agent on
  # burnback-dead-letter (below).
  topics = {
    "monitoring-incidents"   = {}
    "clouddeploy-operations" = {}
    "clouddeploy-approvals"  = {}
    "burnback-alerts"        = {}
    "burnback-alerts-bulk"   = {}
    "burnback-commands"      = {}
    "burnback-progress"      = {}
    "burnback-decisions"     = {}
    "burnback-dead-letter"   = {}
  }

  # Which Burnback service publishes to which topic, one literal row per
  # grant; infra/test fails when a service's code publishes to a topic that
  # has no row here. Only the decider publishes commands: the executor acks a
  # command once its rollout exists and tracks the rollout from Firestore.
  publisher_grants = {
    "burnback-alerts/ingest"        = { topic = "burnback-alerts", who = "ingest" }
    "burnback-alerts-bulk/ingest"   = { topic = "burnback-alerts-bulk", who = "ingest" }
    "burnback-commands/decider"     = { topic = "burnback-commands", who = "decider" }
    "burnback-progress/executor"    = { topic = "burnback-progress", who = "executor" }
    "burnback-progress/decider"     = { topic = "burnback-progress", who = "decider" }
    "burnback-decisions/decider"    = { topic = "burnback-decisions", who = "decider" }
    "burnback-dead-letter/ingest"   = { topic = "burnback-dead-letter", who = "ingest" }
    "burnback-dead-letter/decider"  = { topic = "burnback-dead-letter", who = "decider" }
    "burnback-dead-letter/executor" = { topic = "burnback-dead-letter", who = "executor" }
    "burnback-dead-letter/notifier" = { topic = "burnback-dead-letter", who = "notifier" }
  }

  dead_letter_topic = "burnback-dead-letter"

  # Subscription name => the topic it reads, whether the code relies on
  # per-key ordering (Subscriptions[*].ordered), and which service consumes it.
  # All are pull subscriptions: the services stream-pull and ack only after
  # their handler (and its Firestore commit) succeeded.
  subscriptions = {
    "burnback-ingest" = {
      topic    = "monitoring-incidents"
      ordered  = false
      consumer = "ingest"
    }
    "burnback-decider" = {
      topic    = "burnback-alerts"
      ordered  = true
      consumer = "decider"
    }
    # The bulk lane (alerts that cannot roll back: closed, below their bar,
    # not a burn): a subscription of its own, so its backlog never delays
    # burnback-decider. Unordered: the decider reads it in batches.
    "burnback-decider-bulk" = {
      topic    = "burnback-alerts-bulk"
      ordered  = false
      consumer = "decider"
    }
    "burnback-decider-progress" = {
      topic    = "burnback-progress"
      ordered  = true
      consumer = "decider"
    }
    "burnback-decider-deploy-events" = {
      topic    = "clouddeploy-operations"
      ordered  = false
      consumer = "decider"
    }
    "burnback-executor" = {
      topic    = "burnback-commands"
      ordered  = true
      consumer = "executor"
    }
    "burnback-executor-deploy-events" = {
      topic    = "clouddeploy-operations"
      ordered  = false
      consumer = "executor"
    }
    # The notifier reads decisions and progress on subscriptions of its own,
    # ordered by service, so a page is triggered before it is resolved.
    "burnback-notifier-decisions" = {
      topic    = "burnback-decisions"
      ordered  = true
      consumer = "notifier"
    }
    "burnback-notifier-progress" = {
      topic    = "burnback-progress"
      ordered  = true
      consumer = "notifier"
    }
  }

  # Where dead letters wait for a human (or `burnback replay`). Not read by
  # any service, so it has no dead-letter policy of its own: a dead-letter
  # queue cannot dead-letter into itself.
  dead_letter_audit_subscription = "burnback-dead-letter-audit"


  pubsub_service_agent = "serviceAccount:service-${var.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "topic" {
  for_each = local.topics

  project = var.project_id
  name    = each.key

  # Keep dead letters on the topic itself for a week as well, so a
  # subscription created later can still seek back to them.
  message_retention_duration = each.key == local.dead_letter_topic ? "604800s" : null
}

resource "google_pubsub_subscription" "worker" {
  for_each = local.subscriptions

  project = var.project_id
  name    = each.key
  topic   = google_pubsub_topic.topic[each.value.topic].id
  labels  = { consumer = "burnback-${each.value.consumer}" }

  # The client library extends leases while a handler runs; this is only the
  # deadline after which an unextended message is redelivered.
  ack_deadline_seconds    = var.ack_deadline_seconds
  enable_message_ordering = each.value.ordered

  message_retention_duration = "604800s"
  retain_acked_messages      = false

  # Never expire for inactivity: a quiet week without incidents is normal.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = var.minimum_backoff
    maximum_backoff = var.maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.topic[local.dead_letter_topic].id
    max_delivery_attempts = var.max_delivery_attempts
  }
}

resource "google_pubsub_subscription" "dead_letter_audit" {
  project = var.project_id
  name    = local.dead_letter_audit_subscription
  topic   = google_pubsub_topic.topic[local.dead_letter_topic].id
  labels  = { consumer = "operators" }

  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"
  retain_acked_messages      = true

  expiration_policy {
    ttl = ""
  }
}

# --- Burnback services: publish and consume exactly what the table above says.

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publisher_grants

  project = var.project_id
  topic   = google_pubsub_topic.topic[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.service_accounts[each.value.who]}"
}

resource "google_pubsub_subscription_iam_member" "subscriber" {
  for_each = local.subscriptions

  project      = var.project_id
  subscription = google_pubsub_subscription.worker[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${var.service_accounts[each.value.consumer]}"
}

# --- Pub/Sub service agent: forwards undeliverable messages to the dead-letter
# topic. It must be able to publish there and to ack on the source subscription.

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.topic[local.dead_letter_topic].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source" {
  for_each = local.subscriptions

  project      = var.project_id
  subscription = google_pubsub_subscription.worker[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
