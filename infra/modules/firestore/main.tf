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
# on one field ordered by another needs a composite index; every other query
# Burnback makes is on one field (single-field indexes, which Firestore keeps).
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
