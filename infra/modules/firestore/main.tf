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
