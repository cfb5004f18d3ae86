output "database" {
  description = "Resource name of the Firestore database (projects/<project>/databases/(default))."
  value       = google_firestore_database.default.id
}
