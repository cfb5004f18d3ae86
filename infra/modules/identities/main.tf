# One runtime identity per Burnback service, so every grant in the other
# modules names exactly the service that needs it (no shared identity, and no
# default Compute Engine service account with its project-wide Editor role).

locals {
  accounts = {
    ingest   = "Burnback ingest: notifications in, alerts out"
    decider  = "Burnback decider: alerts and progress in, rollback commands out"
    executor = "Burnback executor: rollback commands in, Cloud Deploy rollbacks"
    notifier = "Burnback notifier: decisions and rollback progress in, pages and chat messages out"
  }
}

resource "google_service_account" "burnback" {
  for_each = local.accounts

  project      = var.project_id
  account_id   = "${var.account_prefix}-${each.key}"
  display_name = "Burnback ${each.key}"
  description  = each.value
}
