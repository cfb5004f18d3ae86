output "topic_ids" {
  description = "Topic id (projects/<project>/topics/<name>) keyed by topic name."
  value       = { for name, topic in google_pubsub_topic.topic : name => topic.id }
}

output "subscription_ids" {
  description = "Subscription id (projects/<project>/subscriptions/<name>) keyed by subscription name."
  value       = { for name, sub in google_pubsub_subscription.worker : name => sub.id }
}

output "dead_letter_audit_subscription" {
  description = "Name of the subscription that keeps dead letters for inspection and replay."
  value       = google_pubsub_subscription.dead_letter_audit.name
}

output "grants" {
  description = "Ids of every Pub/Sub IAM grant, so dependants can wait until the services may publish and consume."
  value = concat(
    [for g in google_pubsub_topic_iam_member.publisher : g.id],
    [for g in google_pubsub_subscription_iam_member.subscriber : g.id],
  )
}
