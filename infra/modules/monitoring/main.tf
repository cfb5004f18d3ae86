# The SLO Burnback protects, the multi-window burn-rate alerts that tell it a
# release is burning the error budget too fast, the Pub/Sub notification
# channel that carries those alerts to Burnback (topic monitoring-incidents),
# and a dashboard of the SLO, the burn rates and Burnback's own decisions.
#
# The SLO goal and the burn-rate thresholds and windows below are literals on
# purpose: they mirror DEFAULT_POLICY and BurnRateWindows in
# packages/contracts/src/policy-settings.ts, and infra/test fails when the two
# disagree.

locals {
  cloud_run_requests = join(" AND ", [
    "metric.type=\"run.googleapis.com/request_count\"",
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${var.service_name}\"",
    "resource.labels.location=\"${var.region}\"",
  ])

  # The user labels Burnback maps an incident with (PolicyUserLabels in packages/contracts).
  # burnback-burn-policy tells ingest which policy (fast or slow) an incident
  # comes from, so the slow policy's windows are held to the slow bar.
  fast_burn_labels = {
    "burnback-service"     = var.service_name
    "burnback-pipeline"    = var.pipeline_name
    "burnback-target"      = var.target_name
    "burnback-burn-policy" = "fast"
  }
  slow_burn_labels = {
    "burnback-service"     = var.service_name
    "burnback-pipeline"    = var.pipeline_name
    "burnback-target"      = var.target_name
    "burnback-burn-policy" = "slow"
  }

  monitoring_notification_agent = "serviceAccount:service-${var.project_number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"

  documentation = <<-EOT
    ${var.service_name} is burning its availability error budget (availability SLO: 99 % of requests without a 5xx, over 30 days) too fast.

    Burnback receives this incident on the Pub/Sub topic monitoring-incidents and decides whether to roll back
    target `${var.target_name}` of Cloud Deploy pipeline `${var.pipeline_name}`. Its decision and the
    explanation of every rule are in the Burnback dashboard and in `burnback status ${var.service_name}`.
  EOT
}

# --- The SLO ------------------------------------------------------------------------

resource "google_monitoring_custom_service" "api" {
  project      = var.project_id
  service_id   = var.service_name
  display_name = "${var.service_name} (Cloud Run, ${var.region})"
}

# Availability: the share of requests that did not fail with a 5xx.
resource "google_monitoring_slo" "availability" {
  project      = var.project_id
  service      = google_monitoring_custom_service.api.service_id
  slo_id       = "availability"
  display_name = "${var.service_name} availability 99 % (30 days)"

  goal                = 0.99
  rolling_period_days = 30

  request_based_sli {
    good_total_ratio {
      total_service_filter = local.cloud_run_requests
      bad_service_filter   = "${local.cloud_run_requests} AND metric.labels.response_code_class=\"5xx\""
    }
  }
}

# --- The notification channel to Burnback ---------------------------------------------

resource "google_monitoring_notification_channel" "burnback" {
  project      = var.project_id
  display_name = "Burnback (Pub/Sub monitoring-incidents)"
  type         = "pubsub"
  description  = "Delivers incidents to Burnback's ingest service through the monitoring-incidents topic."

  labels = {
    topic = var.incidents_topic
  }
}

# Creating the channel does not let Monitoring publish: its notification
# service agent (which exists once the project has a Pub/Sub channel) needs
# publish on the topic.
resource "google_pubsub_topic_iam_member" "monitoring_notification_publisher" {
  project = var.project_id
  topic   = var.incidents_topic
  role    = "roles/pubsub.publisher"
  member  = local.monitoring_notification_agent

  depends_on = [google_monitoring_notification_channel.burnback]
}

# --- Multi-window burn-rate alerts (Google SRE workbook) ---------------------------------
# Each policy opens an incident only when both its long and its short window
# burn faster than the threshold (combiner AND), and closes as soon as the
# short window recovers; both OPENED and CLOSED are sent, so Burnback sees
# recoveries too.

resource "google_monitoring_alert_policy" "fast_burn" {
  project      = var.project_id
  display_name = "${var.service_name}: SLO fast burn (14.4x over 1h, confirmed over 5m)"
  combiner     = "AND"
  severity     = "CRITICAL"
  user_labels  = local.fast_burn_labels

  conditions {
    display_name = "burn rate over 1h > 14.4"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.availability.name}\", \"3600s\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 14.4
      duration        = "0s"
      trigger {
        count = 1
      }
    }
  }

  conditions {
    display_name = "burn rate over 5m > 14.4"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.availability.name}\", \"300s\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 14.4
      duration        = "0s"
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.burnback.id]

  alert_strategy {
    auto_close           = "1800s"
    notification_prompts = ["OPENED", "CLOSED"]
  }

  documentation {
    subject   = "${var.service_name} is burning its error budget 14.4x too fast"
    content   = local.documentation
    mime_type = "text/markdown"
  }

  depends_on = [google_pubsub_topic_iam_member.monitoring_notification_publisher]
}

resource "google_monitoring_alert_policy" "slow_burn" {
  project      = var.project_id
  display_name = "${var.service_name}: SLO slow burn (6x over 6h, confirmed over 30m)"
  combiner     = "AND"
  severity     = "ERROR"
  user_labels  = local.slow_burn_labels

  conditions {
    display_name = "burn rate over 6h > 6"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.availability.name}\", \"21600s\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 6
      duration        = "0s"
      trigger {
        count = 1
      }
    }
  }

  conditions {
    display_name = "burn rate over 30m > 6"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.availability.name}\", \"1800s\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 6
      duration        = "0s"
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.burnback.id]

  alert_strategy {
    auto_close           = "3600s"
    notification_prompts = ["OPENED", "CLOSED"]
  }

  documentation {
    subject   = "${var.service_name} is burning its error budget 6x too fast"
    content   = local.documentation
    mime_type = "text/markdown"
  }

  depends_on = [google_pubsub_topic_iam_member.monitoring_notification_publisher]
}

# --- Burnback's own activity, from its structured logs ----------------------------------

resource "google_logging_metric" "decisions" {
  project     = var.project_id
  name        = "burnback_decisions"
  description = "Decisions the Burnback decider made (log event \"decision\"), by protected service and action."
  filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${var.burnback_service_names["decider"]}\"",
    "jsonPayload.event=\"decision\"",
  ])

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Burnback decisions"

    labels {
      key         = "service"
      value_type  = "STRING"
      description = "The protected service the decision is about."
    }
    labels {
      key         = "action"
      value_type  = "STRING"
      description = "rollback or none."
    }
  }

  label_extractors = {
    service = "EXTRACT(jsonPayload.service)"
    action  = "EXTRACT(jsonPayload.action)"
  }
}

resource "google_logging_metric" "rollback_progress" {
  project     = var.project_id
  name        = "burnback_rollback_progress"
  description = "Rollback progress the Burnback executor reported (log event \"rollback_progress\"), by protected service and stage."
  filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${var.burnback_service_names["executor"]}\"",
    "jsonPayload.event=\"rollback_progress\"",
  ])

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Burnback rollback progress"

    labels {
      key         = "service"
      value_type  = "STRING"
      description = "The protected service being rolled back."
    }
    labels {
      key         = "stage"
      value_type  = "STRING"
      description = "accepted, started, succeeded or failed."
    }
  }

  label_extractors = {
    service = "EXTRACT(jsonPayload.service)"
    stage   = "EXTRACT(jsonPayload.stage)"
  }
}

resource "google_logging_metric" "notifications" {
  project     = var.project_id
  name        = "burnback_notifications"
  description = "Deliveries the Burnback notifier made, retried or gave up on (log events \"notification_delivered\", \"notification_retry\", \"notification_failed\"), by destination and outcome."
  filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${var.burnback_service_names["notifier"]}\"",
    "jsonPayload.event=(\"notification_delivered\" OR \"notification_retry\" OR \"notification_failed\")",
  ])

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Burnback notifications"

    labels {
      key         = "destination"
      value_type  = "STRING"
      description = "The notify: destination's name in the Burnback config."
    }
    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "delivered, retry (one more attempt) or failed (given up and dead-lettered)."
    }
  }

  label_extractors = {
    destination = "EXTRACT(jsonPayload.destination)"
    outcome     = "REGEXP_EXTRACT(jsonPayload.event, \"^notification_(delivered|retry|failed)$\")"
  }
}

# --- Dashboard ------------------------------------------------------------------------------

locals {
  slo_name = google_monitoring_slo.availability.name

  log_metric_chart = {
    decisions = {
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.decisions.name}\" resource.type=\"cloud_run_revision\""
      by     = "metric.label.action"
    }
    rollbacks = {
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.rollback_progress.name}\" resource.type=\"cloud_run_revision\""
      by     = "metric.label.stage"
    }
    notifications = {
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.notifications.name}\" resource.type=\"cloud_run_revision\""
      by     = "metric.label.outcome"
    }
  }
}

resource "google_monitoring_dashboard" "burnback" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "Burnback: ${var.service_name}"
    mosaicLayout = {
      columns = 12
      tiles = [
        {
          xPos = 0, yPos = 0, width = 6, height = 4
          widget = {
            title = "${var.service_name} availability (SLI) vs goal"
            xyChart = {
              dataSets = [{
                plotType        = "LINE"
                timeSeriesQuery = { timeSeriesFilter = { filter = "select_slo_health(\"${local.slo_name}\")" } }
              }]
              thresholds = [{ value = google_monitoring_slo.availability.goal, label = "goal" }]
              yAxis      = { label = "good / total", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 6, yPos = 0, width = 6, height = 4
          widget = {
            title = "Error budget remaining"
            xyChart = {
              dataSets = [{
                plotType        = "LINE"
                timeSeriesQuery = { timeSeriesFilter = { filter = "select_slo_budget_fraction(\"${local.slo_name}\")" } }
              }]
              yAxis = { label = "fraction of budget", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 0, yPos = 4, width = 12, height = 4
          widget = {
            title = "Burn rate (alerts: 14.4x over 1h and 5m, 6x over 6h and 30m)"
            xyChart = {
              dataSets = [
                for window in ["300s", "3600s", "1800s", "21600s"] : {
                  plotType           = "LINE"
                  legendTemplate     = "burn rate over ${window}"
                  timeSeriesQuery    = { timeSeriesFilter = { filter = "select_slo_burn_rate(\"${local.slo_name}\", \"${window}\")" } }
                  minAlignmentPeriod = "60s"
                }
              ]
              thresholds = [
                { value = 14.4, label = "fast burn" },
                { value = 6, label = "slow burn" },
              ]
              yAxis = { label = "x budget", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 0, yPos = 8, width = 6, height = 4
          widget = {
            title = "Burnback decisions (by action)"
            xyChart = {
              dataSets = [{
                plotType = "STACKED_BAR"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = local.log_metric_chart.decisions.filter
                    aggregation = {
                      alignmentPeriod    = "300s"
                      perSeriesAligner   = "ALIGN_SUM"
                      crossSeriesReducer = "REDUCE_SUM"
                      groupByFields      = [local.log_metric_chart.decisions.by]
                    }
                  }
                }
              }]
              yAxis = { label = "decisions / 5 min", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 6, yPos = 8, width = 6, height = 4
          widget = {
            title = "Burnback rollbacks (by stage)"
            xyChart = {
              dataSets = [{
                plotType = "STACKED_BAR"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = local.log_metric_chart.rollbacks.filter
                    aggregation = {
                      alignmentPeriod    = "300s"
                      perSeriesAligner   = "ALIGN_SUM"
                      crossSeriesReducer = "REDUCE_SUM"
                      groupByFields      = [local.log_metric_chart.rollbacks.by]
                    }
                  }
                }
              }]
              yAxis = { label = "events / 5 min", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 0, yPos = 12, width = 6, height = 4
          widget = {
            title = "Oldest unacked message per Burnback subscription"
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" resource.type=\"pubsub_subscription\" resource.label.subscription_id=starts_with(\"burnback-\")"
                    aggregation = {
                      alignmentPeriod    = "60s"
                      perSeriesAligner   = "ALIGN_MAX"
                      crossSeriesReducer = "REDUCE_MAX"
                      groupByFields      = ["resource.label.subscription_id"]
                    }
                  }
                }
              }]
              yAxis = { label = "seconds", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 6, yPos = 12, width = 6, height = 4
          widget = {
            title = "Dead letters waiting (${var.dead_letter_subscription})"
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" resource.type=\"pubsub_subscription\" resource.label.subscription_id=\"${var.dead_letter_subscription}\""
                    aggregation = {
                      alignmentPeriod  = "60s"
                      perSeriesAligner = "ALIGN_MAX"
                    }
                  }
                }
              }]
              yAxis = { label = "messages", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 0, yPos = 16, width = 12, height = 4
          widget = {
            title = "Burnback notifications (by outcome; failed ones are also dead letters)"
            xyChart = {
              dataSets = [{
                plotType = "STACKED_BAR"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = local.log_metric_chart.notifications.filter
                    aggregation = {
                      alignmentPeriod    = "300s"
                      perSeriesAligner   = "ALIGN_SUM"
                      crossSeriesReducer = "REDUCE_SUM"
                      groupByFields      = [local.log_metric_chart.notifications.by]
                    }
                  }
                }
              }]
              yAxis = { label = "deliveries / 5 min", scale = "LINEAR" }
            }
          }
        },
      ]
    }
  })
}
