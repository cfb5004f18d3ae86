# Burnback in production: everything it needs in one Google Cloud project.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  project_number = data.google_project.this.number

  # What Burnback protects and how to roll it back (BURNBACK_CONFIG; schema in
  # packages/platform/src/config.ts). Policy rules default to the runbook's.
  default_config = yamlencode({
    services = {
      (var.api_service_name) = {
        region   = var.region
        pipeline = module.delivery_pipeline.pipeline_name
        target   = module.delivery_pipeline.production_target
      }
    }
  })
}

module "identities" {
  source = "../../modules/identities"

  project_id = var.project_id

  depends_on = [google_project_service.api]
}

module "pubsub" {
  source = "../../modules/pubsub"

  project_id       = var.project_id
  project_number   = local.project_number
  service_accounts = module.identities.emails

  depends_on = [google_project_service.api]
}

module "firestore" {
  source = "../../modules/firestore"

  project_id  = var.project_id
  location_id = var.firestore_location

  depends_on = [google_project_service.api]
}

module "delivery_pipeline" {
  source = "../../modules/delivery-pipeline"

  project_id     = var.project_id
  project_number = local.project_number
  region         = var.region
  staging_region = var.staging_region

  pipeline_name                = "api-backend-pipeline"
  service_name                 = var.api_service_name
  production_requires_approval = var.production_requires_approval
  releasers                    = var.releasers

  rollback_operator = module.identities.members["executor"]
  history_reader    = module.identities.members["decider"]
  operations_topic  = module.pubsub.topic_ids["clouddeploy-operations"]
  approvals_topic   = module.pubsub.topic_ids["clouddeploy-approvals"]

  depends_on = [google_project_service.api]
}

module "burnback_services" {
  source = "../../modules/burnback-services"

  project_id       = var.project_id
  region           = var.region
  service_accounts = module.identities.emails
  images = {
    ingest   = var.ingest_image
    decider  = var.decider_image
    executor = var.executor_image
    notifier = var.notifier_image
  }
  config_yaml         = coalesce(var.burnback_config_yaml, local.default_config)
  notifier_secret_env = var.notifier_secret_env

  max_instances                = var.max_instances
  log_level                    = var.log_level
  ingest_invokers              = var.ingest_invokers
  ingest_allow_unauthenticated = var.ingest_allow_unauthenticated

  # Start consuming only once the subscriptions, grants and database exist.
  depends_on = [module.pubsub, module.firestore]
}

module "monitoring" {
  source = "../../modules/monitoring"

  project_id     = var.project_id
  project_number = local.project_number
  region         = var.region
  service_name   = var.api_service_name
  pipeline_name  = module.delivery_pipeline.pipeline_name
  target_name    = module.delivery_pipeline.production_target

  incidents_topic          = module.pubsub.topic_ids["monitoring-incidents"]
  dead_letter_subscription = module.pubsub.dead_letter_audit_subscription
  burnback_service_names   = module.burnback_services.service_names

  depends_on = [google_project_service.api]
}
