# Burnback's state: notifications, incidents, services, decisions, rollbacks,
# outbox (packages/contracts Collections), in the project's (default) database,
# which is the one the services' Firestore client opens.

resource "google_firestore_database" "default" {
  project     = var.project_id
  name        = "(default)"
  location_id = var.location_id
  type        = "FIRESTORE_NATIVE"

  # The server SDK's transactions lock what they read; the decider serialises
  # decisions per service with one such transaction (the emulator behaves the same).
  concurrency_mode            = "PESSIMISTIC"
  app_engine_integration_mode = "DISABLED"

  point_in_time_recovery_enablement = var.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"

  # `terraform destroy` forgets the database instead of deleting Burnback's
  # audit trail; delete it by hand if you really mean it.
  deletion_policy = "ABANDON"
}

# The outbox relay's two queries: unsent entries oldest first, and commands sent
# but not yet confirmed, oldest send first (platform/src/outbox.ts). An equality
# on one field ordered by another needs a composite index (packages/contracts
# FirestoreIndexes lists them; a test checks they agree); every other query
# Burnback makes but decisions_by_service (below) is on one field or on equalities
# only (single-field indexes, which Firestore keeps, serve them).
resource "google_firestore_index" "outbox_unsent" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "outbox"

  fields {
    field_path = "sentAt"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "outbox_unconfirmed" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "outbox"

  fields {
    field_path = "confirmedAt"
    order      = "ASCENDING"
  }
  fields {
    field_path = "sentAt"
    order      = "ASCENDING"
  }
}

# GET /rollback/recent?service=…: one service's decisions newest first, a page
# at a time, the cursor on (decidedAt, document id) (services/ingest/src/management-reads.ts).
resource "google_firestore_index" "decisions_by_service" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "decisions"

  fields {
    field_path = "service"
    order      = "ASCENDING"
  }
  fields {
    field_path = "decidedAt"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

# The notifier's sweep: deliveries still being sent whose next attempt is due,
# oldest first (services/notifier/src/store.ts).
resource "google_firestore_index" "deliveries_due" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "nextAttemptAt"
    order      = "ASCENDING"
  }
}
